"""Case timelines: workflow starts per second, and the worker's resident memory with thousands
of open `CaseTimeline` workflows, against a bare Temporal start loop on the same server.

Offramp: casework runs as its own process; ReferralAdmitted events are published onto the bus
as intake publishes them, and casework's consumer starts one timeline per case (one at a time,
each in the transaction that records the event as handled), whose first activities open the
case and assign a case manager; then the workflow sleeps on its deadlines, open. Started =
every event handled; opened = every case stored with its case manager.

Baseline: a loop in this process starting a trivial workflow one at a time (as the consumer
does), whose one activity stores a row and publishes it, on a worker in its own process.

The two take turns in rounds of a tenth of the workflows each, so that on a shared machine a
change of load falls on both alike; each side's time is the sum of its rounds.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import asyncpg
import nats
import uuid6
from nats.aio.client import Client as NATS
from temporalio.client import Client

from bench.bare_temporal import TASK_QUEUE, WORKFLOW, bare_worker_process, prepare
from bench.harness import loadavg, publish_all, report, rss_mib, sample_rss, servers
from bench.system import JURISDICTION, OFFICER_AGENCY, register_case_managers, stack, started
from offramp_contracts import Actor, subject_for
from offramp_contracts.events.base import StaffRef
from offramp_contracts.events.intake import ReferralAdmitted
from offramp_devstack.waiting import wait_for
from servicekit.events import new_event

SIZES = {"smoke": 10, "quick": 200, "full": 10_000}
ROUNDS = 10
ADMITTED_CONSUMER = "casework-admitted-v1"

Counter = Callable[[], Awaitable[int]]


@dataclass
class Side:
    """One side's accumulated times and its worker's memory."""

    worker_pid: int
    started_s: float = 0.0
    opened_s: float = 0.0
    memory: dict[str, float] = field(default_factory=dict)

    def row(self, what: str, count: int) -> dict[str, Any]:
        return {
            "workflows": count,
            "what": what,
            "starts_per_s": round(count / self.started_s, 1),
            "opened_per_s": round(count / self.opened_s, 1),
            **self.memory,
        }


async def measure(size: str) -> None:
    count = SIZES[size]
    load = loadavg()
    with servers(temporal=True) as running:
        temporal = running.temporal
        assert temporal is not None
        config = await stack(running, "bench_timelines")
        bus = await nats.connect(running.nats.url, **running.nats.connect_options())
        await prepare(config.dsn, bus.jetstream())
        conn = await asyncpg.connect(config.dsn)
        client = await Client.connect(temporal.address)
        async with (
            started(config, "casework") as up,
            bare_worker_process(
                running.home, temporal.address, config.dsn, running.nats.url, running.nats.seed()
            ) as bare,
        ):
            await register_case_managers(config, up["casework"], 10)
            # One bare workflow first, so that its worker is polling before the clock starts.
            await client.start_workflow(
                WORKFLOW, "warm-up", id="bare-warm-up", task_queue=TASK_QUEUE
            )
            await _reached(_counter(conn, "SELECT count(*) FROM bare_cases"), 1, 60, "bare worker")
            ours, theirs = Side(up["casework"].pid), Side(bare)
            pids = {"casework": ours.worker_pid, "bare": theirs.worker_pid}
            idle = {name: rss_mib(pid) for name, pid in pids.items()}
            peaks: dict[str, float] = {}
            sampler = asyncio.create_task(sample_rss(pids, peaks))
            try:
                step = max(1, count // ROUNDS)
                for first in range(0, count, step):
                    last = min(count, first + step)
                    await casework_round(conn, bus, ours, first, last)
                    await bare_round(conn, client, theirs, first, last)
            finally:
                sampler.cancel()
                await asyncio.gather(sampler, return_exceptions=True)
                await bus.close()
                await conn.close()
            for side, name in ((ours, "casework"), (theirs, "bare")):
                side.memory = {
                    "worker_idle_mib": idle[name],
                    "worker_peak_mib": peaks[name],
                    "worker_open_mib": rss_mib(side.worker_pid),
                }
            temporal_mib = rss_mib(temporal.server.pid)
    rows = [ours.row("CaseTimeline (casework)", count), theirs.row("bare workflow", count)]
    rows.append(
        {
            "workflows": count,
            "what": "ratio",
            "starts_per_s": round(theirs.started_s / ours.started_s, 3),
            "opened_per_s": round(theirs.opened_s / ours.opened_s, 3),
            "worker_open_mib": round(
                ours.memory["worker_open_mib"] / theirs.memory["worker_open_mib"], 2
            ),
        }
    )
    report(
        "case_timelines",
        size,
        rows,
        load_before=load,
        notes=(
            f"{count} workflows left open each way, in {ROUNDS} alternating rounds; started: the "
            "start call returned; opened: the first activity's effect is stored; worker memory "
            f"(RSS) before, at its peak, and with every workflow open; the Temporal server held "
            f"both sides' workflows at {temporal_mib} MiB; ratios: Offramp ÷ bare"
        ),
    )


async def casework_round(
    conn: asyncpg.Connection, bus: NATS, side: Side, first: int, last: int
) -> None:
    """Admissions first..last-1 published as intake publishes them, timed until casework has
    started their timelines and until their cases are open with a case manager."""
    messages = [_admission() for _ in range(first, last)]
    handled = _counter(
        conn, "SELECT count(*) FROM casework.inbox WHERE consumer = $1", ADMITTED_CONSUMER
    )
    opened = _counter(conn, "SELECT count(*) FROM casework.cases WHERE case_manager IS NOT NULL")
    began = time.perf_counter()
    await publish_all(bus.jetstream(), messages)
    await _reached(handled, last, _limit(last - first), "every admission handled")
    side.started_s += time.perf_counter() - began
    await _reached(opened, last, _limit(last - first), "every case opened")
    side.opened_s += time.perf_counter() - began


async def bare_round(
    conn: asyncpg.Connection, client: Client, side: Side, first: int, last: int
) -> None:
    began = time.perf_counter()
    for n in range(first, last):
        await client.start_workflow(WORKFLOW, str(n), id=f"bare-{n}", task_queue=TASK_QUEUE)
    side.started_s += time.perf_counter() - began
    opened = _counter(conn, "SELECT count(*) - 1 FROM bare_cases")  # less the warm-up
    await _reached(opened, last, _limit(last - first), "every bare workflow's activity")
    side.opened_s += time.perf_counter() - began


def _admission() -> tuple[str, bytes]:
    officer = StaffRef(subject="officer-1", agency=OFFICER_AGENCY)
    referral_id = uuid6.uuid7()
    event = new_event(
        ReferralAdmitted(
            referral_id=referral_id,
            door="arrest_diversion",
            referring_officer=officer,
            policy_version="2026.1",
            from_waitlist=False,
        ),
        stream_id=f"referral-{referral_id}",
        stream_version=3,
        jurisdiction=JURISDICTION,
        actor=Actor(subject=officer.subject, agency=officer.agency, role="officer"),
        correlation_id=uuid4(),
        causation_id=None,
    )
    return subject_for("bench", JURISDICTION, event.event_type), event.wire_json()


def _limit(workflows: int) -> float:
    return 120 + workflows / 2  # generous: a busy machine starts a few workflows a second


async def _reached(counter: Counter, count: int, seconds: float, what: str) -> None:
    async def done() -> bool:
        return await counter() >= count

    await wait_for(done, timeout=seconds, what=what, every=0.1)


def _counter(conn: asyncpg.Connection, sql: str, *args: Any) -> Counter:
    async def count() -> int:
        return int(await conn.fetchval(sql, *args))

    return count


def main(size: str) -> None:
    asyncio.run(measure(size))

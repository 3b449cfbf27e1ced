"""Case timelines: workflow starts per second, and the worker's resident memory with thousands
of open `CaseTimeline` workflows, against a bare Temporal start loop on the same server.

Offramp: casework runs as its own process; ReferralAdmitted events are published onto the bus
as intake publishes them, and casework's consumer starts one timeline per case (one at a time,
each in the transaction that records the event as handled), whose first activities open the
case and assign a case manager; then the workflow sleeps on its deadlines, open. Started =
every event handled; opened = every case stored with its case manager.

Baseline: a loop in this process starting a trivial workflow one at a time (as the consumer
does), whose one activity stores a row and publishes it, on a worker in its own process.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import uuid4

import asyncpg
import nats
import uuid6
from temporalio.client import Client

from bench.bare_temporal import WORKFLOW, bare_worker_process, prepare
from bench.harness import loadavg, publish_all, report, rss_mib, sample_rss, servers
from bench.system import JURISDICTION, OFFICER_AGENCY, Stack, register_case_managers, stack, started
from offramp_contracts import Actor, subject_for
from offramp_contracts.events.base import StaffRef
from offramp_contracts.events.intake import ReferralAdmitted
from offramp_devstack.waiting import wait_for
from servicekit.events import new_event

SIZES = {"smoke": 10, "quick": 200, "full": 10_000}
ADMITTED_CONSUMER = "casework-admitted-v1"


async def measure(size: str) -> None:
    count = SIZES[size]
    load = loadavg()
    with servers(temporal=True) as running:
        assert running.temporal is not None
        config = await stack(running, "bench_timelines")
        temporal_pid = running.temporal.server.pid
        async with started(config, "casework") as up:
            await register_case_managers(config, up["casework"], 10)
            ours = await offramp_timelines(config, up["casework"].pid, temporal_pid, count)
        theirs = await bare_timelines(config, temporal_pid, count)
    rows = [
        {
            "workflows": count,
            "what": what,
            "starts_per_s": round(count / result["started_s"], 1),
            "opened_per_s": round(count / result["opened_s"], 1),
            "worker_idle_mib": result["worker_idle_mib"],
            "worker_peak_mib": result["worker_peak_mib"],
            "worker_open_mib": result["worker_open_mib"],
            "temporal_server_mib": result["temporal_mib"],
        }
        for what, result in (("CaseTimeline (casework)", ours), ("bare workflow", theirs))
    ]
    rows.append(
        {
            "workflows": count,
            "what": "ratio",
            "starts_per_s": round(theirs["started_s"] / ours["started_s"], 3),
            "opened_per_s": round(theirs["opened_s"] / ours["opened_s"], 3),
            "worker_open_mib": round(ours["worker_open_mib"] / theirs["worker_open_mib"], 2),
        }
    )
    report(
        "case_timelines",
        size,
        rows,
        load_before=load,
        notes=(
            f"{count} workflows left open each way; started: the start call returned; opened: "
            "the first activity's effect is stored; worker memory (RSS) before, at its peak, and "
            "with every workflow open; ratios: Offramp ÷ bare"
        ),
    )


async def offramp_timelines(
    config: Stack, casework_pid: int, temporal_pid: int, count: int
) -> dict[str, float]:
    officer = StaffRef(subject="officer-1", agency=OFFICER_AGENCY)
    actor = Actor(subject=officer.subject, agency=officer.agency, role="officer")
    messages = []
    for _ in range(count):
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
            actor=actor,
            correlation_id=uuid4(),
            causation_id=None,
        )
        messages.append((subject_for("bench", JURISDICTION, event.event_type), event.wire_json()))
    conn = await config.connect("casework")
    bus = await nats.connect(config.servers.nats.url)
    try:
        return await _timed(
            {"worker": casework_pid, "temporal": temporal_pid},
            start=lambda: publish_all(bus.jetstream(), messages),
            handled=_counter(
                conn, "SELECT count(*) FROM inbox WHERE consumer = $1", ADMITTED_CONSUMER
            ),
            opened=_counter(conn, "SELECT count(*) FROM cases WHERE case_manager IS NOT NULL"),
            count=count,
        )
    finally:
        await bus.close()
        await conn.close()


async def bare_timelines(config: Stack, temporal_pid: int, count: int) -> dict[str, float]:
    temporal = config.servers.temporal
    assert temporal is not None
    bus = await nats.connect(config.servers.nats.url)
    await prepare(config.dsn, bus.jetstream())
    await bus.close()
    conn = await asyncpg.connect(config.dsn)
    client = await Client.connect(temporal.address)
    async with bare_worker_process(
        config.servers.home, temporal.address, config.dsn, config.servers.nats.url
    ) as worker_pid:
        # One first, so that the worker has started polling before the clock starts.
        await client.start_workflow(WORKFLOW, "warm-up", id="bare-warm-up", task_queue="bare-bench")
        await _reached(_counter(conn, "SELECT count(*) FROM bare_cases"), 1, 60, "bare worker")

        async def start_each() -> None:
            for n in range(count):
                await client.start_workflow(
                    WORKFLOW, str(n), id=f"bare-{n}", task_queue="bare-bench"
                )

        try:
            return await _timed(
                {"worker": worker_pid, "temporal": temporal_pid},
                start=start_each,
                handled=None,  # the loop returns once every start has returned
                opened=_counter(conn, "SELECT count(*) - 1 FROM bare_cases"),
                count=count,
            )
        finally:
            await conn.close()


Counter = Callable[[], Awaitable[int]]


async def _timed(
    pids: dict[str, int],
    *,
    start: Callable[[], Awaitable[Any]],
    handled: Counter | None,
    opened: Counter,
    count: int,
) -> dict[str, float]:
    """Runs `start`; started is when `handled` counts `count` (or when `start` returned, if
    there is nothing to wait for), opened when `opened` does. Samples the processes' memory
    throughout."""
    idle = rss_mib(pids["worker"])
    peaks: dict[str, float] = {}
    sampler = asyncio.create_task(sample_rss(pids, peaks))
    timeout = 120 + count / 2  # generous: a busy machine starts a few workflows a second
    began = time.perf_counter()
    try:
        await start()
        if handled is not None:
            await _reached(handled, count, timeout, "every admission handled")
        started_s = time.perf_counter() - began
        await _reached(opened, count, timeout, "every case opened")
        opened_s = time.perf_counter() - began
    finally:
        sampler.cancel()
    return {
        "started_s": started_s,
        "opened_s": opened_s,
        "worker_idle_mib": idle,
        "worker_peak_mib": peaks["worker"],
        "worker_open_mib": rss_mib(pids["worker"]),
        "temporal_mib": rss_mib(pids["temporal"]),
    }


async def _reached(counter: Counter, count: int, seconds: float, what: str) -> None:
    async def done() -> bool:
        return await counter() >= count

    await wait_for(done, timeout=seconds, what=what, every=0.25)


def _counter(conn: asyncpg.Connection, sql: str, *args: Any) -> Counter:
    async def count() -> int:
        return int(await conn.fetchval(sql, *args))

    return count


def main(size: str) -> None:
    asyncio.run(measure(size))

"""End to end: an officer's referral POST to the message in that officer's inbox, p50/p95/p99,
against a raw chain of the same hops on the same servers.

Offramp: the four services run as their own processes. Referrals go in at a steady rate (an
open loop, so that a slow answer does not slow the next referral down) from ten officers. Each
travels intake → relay → JetStream → casework's consumer → CaseTimeline on Temporal → its
open_case activity (CaseOpened) → relay → JetStream → notify's consumer, which writes the
officer's in-app message ("working with a case manager") and its NotificationDelivered in one
transaction.

Arrival is watched in notify's table, woken by the LISTEN/NOTIFY that every commit of notify's
event store sends (its outbox channel): one wake-up and one small indexed query per commit, at
the moment of the commit. Polling `GET /inbox` instead would put ten officers' token checks and
inbox reads on notify's event loop every few milliseconds, the very loop being measured, and
would only see a message at the next poll. At the end every officer's `GET /inbox` is read once
to check that it lists exactly the messages that were seen.

Raw chain: per referral, a row inserted and a message published (intake's commit and relay); a
pull consumer starting a trivial workflow (casework's consumer); its activity inserting a row
and publishing (open_case and casework's relay); a pull consumer inserting the inbox row
(notify). No HTTP, no validation, no event store, outbox or inbox tables, no ledger.
"""

import asyncio
import contextlib
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import nats
from nats.js import JetStreamContext
from temporalio.client import Client

from bench.bare_temporal import (
    OPENED_SUBJECT,
    STREAM,
    TASK_QUEUE,
    WORKFLOW,
    bare_worker_process,
    prepare,
)
from bench.harness import Run, Service, loadavg, report, servers
from bench.system import OFFICER_AGENCY, Stack, register_case_managers, stack, started
from offramp_devstack.waiting import wait_for
from tests.referrals import referral_body

SIZES = {"smoke": 8, "quick": 60, "full": 300}
RATE = 4.0  # referrals per second: well under what Temporal's dev server starts on a busy 2-core machine
OFFICERS = 10


async def measure(size: str) -> None:
    count = SIZES[size]
    load = loadavg()
    with servers(temporal=True) as running:
        config = await stack(running, "bench_e2e")
        async with started(config, "intake", "casework", "notify", "audit") as up:
            await register_case_managers(config, up["casework"], 5)
            ours, answered = await referrals_to_inboxes(config, up, count)
        theirs = await raw_chain(config, count)
    o, t, a = ours.summary(), theirs.summary(), answered.summary()
    report(
        "end_to_end",
        size,
        [
            {
                "path": "referral POST → officer's inbox",
                "referrals": count,
                "p50_ms": o["p50_ms"],
                "p95_ms": o["p95_ms"],
                "p99_ms": o["p99_ms"],
                "max_ms": round(max(ours.latencies) * 1000, 1),
                "post_answered_p50_ms": a["p50_ms"],
            },
            {
                "path": "raw chain",
                "referrals": count,
                "p50_ms": t["p50_ms"],
                "p95_ms": t["p95_ms"],
                "p99_ms": t["p99_ms"],
                "max_ms": round(max(theirs.latencies) * 1000, 1),
            },
            {
                "path": "ratio (raw ÷ Offramp)",
                "p50_ms": round(t["p50_ms"] / o["p50_ms"], 3),
                "p95_ms": round(t["p95_ms"] / o["p95_ms"], 3),
                "p99_ms": round(t["p99_ms"] / o["p99_ms"], 3),
            },
        ],
        load_before=load,
        notes=(
            f"{count} referrals at {RATE:g}/s from {OFFICERS} officers, all four services as "
            "processes; arrival seen in notify's table on its commit's NOTIFY; raw chain: "
            "insert+publish → pull consumer starts a trivial workflow → activity insert+publish "
            "→ pull consumer inserts"
        ),
    )


async def referrals_to_inboxes(
    config: Stack, up: dict[str, Service], count: int
) -> tuple[Run, Run]:
    """Returns the latencies to the inbox message, and those of the POST's answer."""
    arrivals: dict[UUID, float] = {}
    watcher = await config.connect("notify")
    wake = asyncio.Event()
    await watcher.add_listener("outbox_notify", lambda *_: wake.set())
    watching = asyncio.create_task(_watch_inboxes(watcher, wake, arrivals))
    tokens = [config.token(f"officer-{n}", "officer", OFFICER_AGENCY) for n in range(OFFICERS)]
    sent: dict[UUID, tuple[float, int]] = {}
    answered: list[float] = []
    try:
        async with httpx.AsyncClient(base_url=up["intake"].url, timeout=60) as intake:

            async def refer(n: int, at: float) -> None:
                await asyncio.sleep(max(0.0, at - time.perf_counter()))  # the open loop's tick
                began = time.perf_counter()
                response = await intake.post(
                    "/referrals",
                    json=referral_body(),
                    headers={
                        "Authorization": f"Bearer {tokens[n % OFFICERS]}",
                        "Idempotency-Key": str(uuid4()),
                    },
                )
                if response.status_code != 201 or response.json()["status"] != "admitted":
                    raise RuntimeError(f"referral not admitted: {response.text}")
                answered.append(time.perf_counter() - began)
                sent[UUID(response.json()["referral_id"])] = (began, n % OFFICERS)

            began = time.perf_counter()
            await asyncio.gather(*(refer(n, began + n / RATE) for n in range(count)))
            seconds = time.perf_counter() - began

            async def all_arrived() -> bool:
                return all(referral in arrivals for referral in sent)

            await wait_for(all_arrived, timeout=120, what="every officer's inbox message")
    finally:
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
        await watcher.close()
    await _check_inboxes(up["notify"], tokens, sent)
    latencies = [arrivals[referral] - posted for referral, (posted, _) in sent.items()]
    return Run(count, 1, seconds, latencies), Run(count, 1, seconds, answered)


async def _watch_inboxes(
    conn: asyncpg.Connection, wake: asyncio.Event, arrivals: dict[UUID, float]
) -> None:
    """Notes when each referral's CaseOpened message to its officer was committed. `created_at`
    is when its transaction began, so the query looks back a while and repeats are ignored."""
    since = datetime.now(UTC) - timedelta(minutes=1)
    while True:
        # The timeout only covers a notification lost on a reconnect; none is expected.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=1.0)
        seen = time.perf_counter()
        wake.clear()
        rows = await conn.fetch(
            """SELECT referral_id, created_at FROM in_app_messages
               WHERE trigger = 'CaseOpened' AND created_at > $1""",
            since,
        )
        for row in rows:
            arrivals.setdefault(UUID(str(row["referral_id"])), seen)
        if rows:
            since = max(row["created_at"] for row in rows) - timedelta(seconds=10)


async def _check_inboxes(
    notify: Service, tokens: list[str], sent: dict[UUID, tuple[float, int]]
) -> None:
    async with httpx.AsyncClient(base_url=notify.url) as client:
        for officer, token in enumerate(tokens):
            response = await client.get("/inbox", headers={"Authorization": f"Bearer {token}"})
            listed = {
                UUID(m["referral_id"]) for m in response.json() if m["trigger"] == "CaseOpened"
            }
            expected = {referral for referral, (_, o) in sent.items() if o == officer}
            if listed != expected:
                raise RuntimeError(f"officer-{officer}'s inbox does not list what was seen")


async def raw_chain(config: Stack, count: int) -> Run:
    temporal = config.servers.temporal
    assert temporal is not None
    pool = await asyncpg.create_pool(config.dsn, min_size=2, max_size=4)
    bus = await nats.connect(config.servers.nats.url, **config.servers.nats.connect_options())
    js = bus.jetstream()
    await prepare(config.dsn, js)
    await pool.execute(
        "CREATE TABLE raw_referrals (id uuid PRIMARY KEY, body jsonb NOT NULL);"
        "CREATE TABLE raw_inbox (case_id text PRIMARY KEY)"
    )
    client = await Client.connect(temporal.address)
    arrivals: dict[str, float] = {}

    async def start_timeline(msg: Any) -> None:
        case_id = msg.data.decode()
        await client.start_workflow(WORKFLOW, case_id, id=f"raw-{case_id}", task_queue=TASK_QUEUE)

    async def tell(msg: Any) -> None:
        case_id = msg.data.decode()
        await pool.execute("INSERT INTO raw_inbox (case_id) VALUES ($1)", case_id)
        arrivals.setdefault(case_id, time.perf_counter())

    body = json.dumps(referral_body())
    sent: dict[str, float] = {}
    consumers = [
        asyncio.create_task(_consume(js, "rawchain.referral", "raw-casework", start_timeline)),
        asyncio.create_task(_consume(js, OPENED_SUBJECT, "raw-notify", tell)),
    ]
    try:
        async with bare_worker_process(
            config.servers.home,
            temporal.address,
            config.dsn,
            config.servers.nats.url,
            config.servers.nats.seed(),
        ):

            async def refer(n: int, at: float) -> None:
                await asyncio.sleep(max(0.0, at - time.perf_counter()))
                began = time.perf_counter()
                referral = uuid4()
                await pool.execute(
                    "INSERT INTO raw_referrals (id, body) VALUES ($1, $2::jsonb)", referral, body
                )
                await js.publish("rawchain.referral", str(referral).encode(), stream=STREAM)
                sent[str(referral)] = began

            # One through first, so that the worker is polling before the clock starts.
            await refer(0, 0.0)
            await wait_for(lambda: _arrived(arrivals, 1), timeout=60, what="the bare worker")
            sent.clear()
            arrivals.clear()
            began = time.perf_counter()
            await asyncio.gather(*(refer(n, began + n / RATE) for n in range(count)))
            seconds = time.perf_counter() - began
            await wait_for(lambda: _arrived(arrivals, count), timeout=120, what="the raw chain")
    finally:
        for task in consumers:
            task.cancel()
        await asyncio.gather(*consumers, return_exceptions=True)
        await bus.close()
        await pool.close()
    return Run(count, 1, seconds, [arrivals[case] - began for case, began in sent.items()])


async def _arrived(arrivals: dict[str, float], count: int) -> bool:
    return len(arrivals) >= count


async def _consume(js: JetStreamContext, subject: str, durable: str, handle: Any) -> None:
    """A bare pull consumer, in the same batch and wait as the services' consumers."""
    sub = await js.pull_subscribe(subject, durable=durable, stream=STREAM)
    while True:
        try:
            msgs = await sub.fetch(32, timeout=2)
        except TimeoutError:
            # nats-py raises its own TimeoutError or, when the server's 408 comes first,
            # asyncio's: TimeoutError catches both.
            continue
        for msg in msgs:
            await handle(msg)
            await msg.ack()


def main(size: str) -> None:
    asyncio.run(measure(size))

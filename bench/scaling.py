"""Scaling: referrals per second end to end with one and two replicas of every service, on one
NATS server (stream R1) and on a three-node cluster (stream R3, `sync_interval: always`), in one
run, and the ratios between them.

End to end is what an officer waits for: the referral's POST (to the intake replicas in turn)
until the referring officer's in-app message that a case manager is working with the person is
committed in notify, through intake, the relay, JetStream, casework's consumer, CaseTimeline on
Temporal, its activities, the relay again and notify's consumer; audit's ledger takes every
event meanwhile. Officers post as fast as they are answered (a closed loop), so the figure is
what the whole chain sustains, not a chosen rate. Arrival is seen as `end_to_end` sees it: a
listener on notify's outbox channel, one small query per commit.

The four layouts run one after the other on fresh servers: a ratio's two sides are minutes
apart, and a change of the machine's load between them moves it.
"""

import asyncio
import contextlib
import itertools
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import asyncpg
import httpx

from bench.harness import loadavg, report
from offramp_devstack import (
    ServiceProcess,
    free_ports,
    start_nats,
    start_nats_cluster,
    start_postgres,
    start_temporal,
)
from offramp_devstack.waiting import wait_for
from servicekit.auth import LocalIssuer
from tests.profiles import customised_profiles
from tests.referrals import referral_body

SIZES = {"smoke": 10, "quick": 80, "full": 400}
OFFICERS = 8
SERVICES = ("intake", "casework", "notify", "audit")
LAYOUTS = [(1, 1), (2, 1), (1, 3), (2, 3)]  # (replicas of each service, NATS nodes)


@dataclass(frozen=True)
class Figure:
    replicas: int
    nats_nodes: int
    referrals: int
    per_second: float  # referrals whose officer's message was committed, per second
    posts_per_second: float  # referrals intake answered 201 to, per second


@dataclass(frozen=True)
class Running:
    processes: dict[str, list[ServiceProcess]]
    dsn: str
    issuer: LocalIssuer


@contextlib.asynccontextmanager
async def system(home: Path, replicas: int, nodes: int) -> AsyncIterator[Running]:
    """Fresh servers and `replicas` processes of every service under `home`."""
    pg_port, nats_port, monitor_port, temporal_port, ui_port, smtp_port, *ports = free_ports(
        6 + replicas * len(SERVICES)
    )
    postgres = await asyncio.to_thread(
        start_postgres, home / "postgres", pg_port, home / "postgres.log"
    )
    cluster = None
    lone = None
    if nodes == 1:
        lone = await asyncio.to_thread(
            start_nats, home / "nats", nats_port, monitor_port, home / "nats.log"
        )
        nats_url, credentials_dir = lone.url, lone.credentials_dir
    else:
        cluster = await start_nats_cluster(home / "nats", nodes, sync_always=True)
        nats_url, credentials_dir = cluster.url, cluster.credentials_dir
    temporal = await asyncio.to_thread(
        start_temporal,
        home / "temporal.db",
        temporal_port,
        ui_port,
        home / "temporal.log",
        headless=True,
    )
    dsn = await postgres.create_database("bench_scaling")
    issuer = LocalIssuer(home / "issuer.pem", issuer="offramp-local", audience="offramp")
    profiles = customised_profiles(
        home / "profiles", {"pontiac.toml": {"capacity = 40": "capacity = 100000000"}}
    )
    env = {
        "OFFRAMP_DATABASE_URL": dsn,
        "OFFRAMP_NATS_URL": nats_url,
        "OFFRAMP_NATS_CREDENTIALS_DIR": str(credentials_dir),
        "OFFRAMP_STREAM_REPLICAS": str(nodes),
        "OFFRAMP_TEMPORAL_ADDRESS": temporal.address,
        "OFFRAMP_TEMPORAL_TASK_QUEUE": "casework-scaling",
        "OFFRAMP_PROFILES_DIR": str(profiles),
        "OFFRAMP_AUTH_LOCAL_KEY_PATH": str(home / "issuer.pem"),
        "OFFRAMP_SUBJECT_ROOT": "scaling",
        "OFFRAMP_STREAM_NAME": "SCALING",
        "OFFRAMP_SMTP_PORT": str(smtp_port),
        "OFFRAMP_DB_POOL_MAX": "6",
    }
    free = iter(ports)
    processes = {
        name: [
            ServiceProcess(name, port=next(free), env=env, log_path=home / f"{name}-{n}.log")
            for n in range(replicas)
        ]
        for name in SERVICES
    }
    everything = [p for group in processes.values() for p in group]
    try:
        await asyncio.gather(*(p.start() for p in everything))
        yield Running(processes, dsn, issuer)
    finally:
        await asyncio.gather(*(p.stop() for p in everything))
        if cluster is not None:
            await asyncio.to_thread(cluster.stop)
        for server in (temporal.server, lone.server if lone else None, postgres.server):
            if server is not None:
                await asyncio.to_thread(server.stop)


async def measure_layout(replicas: int, nodes: int, count: int) -> Figure:
    home = Path(tempfile.mkdtemp(prefix=f"offramp-scaling-{replicas}x{nodes}-"))
    async with system(home, replicas, nodes) as up:
        await _register_case_managers(up.issuer, up.processes["casework"][0].url, 5)
        return await _referrals_through(replicas, nodes, count, up)


async def _register_case_managers(issuer: LocalIssuer, casework: str, count: int) -> None:
    token = issuer.issue(
        subject="sup-1",
        roles=["supervisor"],
        agency="pontiac-case-management",
        jurisdiction="pontiac",
    )
    async with httpx.AsyncClient(
        base_url=casework, headers={"Authorization": f"Bearer {token}"}
    ) as http:
        for n in range(count):
            response = await http.put(f"/case-managers/cm-{n}")
            if response.status_code != 204:
                raise RuntimeError(f"case manager not registered: {response.text}")


async def _referrals_through(
    replicas: int,
    nodes: int,
    count: int,
    up: Running,
) -> Figure:
    processes, issuer = up.processes, up.issuer
    watcher = await asyncpg.connect(up.dsn, server_settings={"search_path": "notify"})
    wake = asyncio.Event()
    await watcher.add_listener("outbox_notify", lambda *_: wake.set())
    arrived: set[str] = set()
    last_arrival = [0.0]
    watching = asyncio.create_task(_watch(watcher, wake, arrived, last_arrival))
    intakes = itertools.cycle([p.url for p in processes["intake"]])
    tokens = [
        issuer.issue(
            subject=f"officer-{n}", roles=["officer"], agency="pontiac-pd", jurisdiction="pontiac"
        )
        for n in range(OFFICERS)
    ]
    remaining = iter(range(count))
    posted: list[str] = []
    try:
        async with httpx.AsyncClient(timeout=60) as http:

            async def officer(n: int) -> None:
                for _ in remaining:
                    response = await http.post(
                        f"{next(intakes)}/referrals",
                        json=referral_body(),
                        headers={
                            "Authorization": f"Bearer {tokens[n]}",
                            "Idempotency-Key": str(uuid4()),
                        },
                    )
                    if response.status_code != 201 or response.json()["status"] != "admitted":
                        raise RuntimeError(f"referral not admitted: {response.text}")
                    posted.append(response.json()["referral_id"])

            began = time.perf_counter()
            await asyncio.gather(*(officer(n) for n in range(OFFICERS)))
            posts_done = time.perf_counter()

            async def all_arrived() -> bool:
                return set(posted) <= arrived

            await wait_for(all_arrived, timeout=600, what="every officer's message", every=0.2)
    finally:
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
        await watcher.close()
    return Figure(
        replicas,
        nodes,
        count,
        round(count / (last_arrival[0] - began), 2),
        round(count / (posts_done - began), 2),
    )


async def _watch(
    conn: asyncpg.Connection, wake: asyncio.Event, arrived: set[str], last: list[float]
) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=1.0)
        seen = time.perf_counter()
        wake.clear()
        rows = await conn.fetch(
            "SELECT referral_id, created_at FROM in_app_messages WHERE trigger = 'CaseOpened' AND created_at > $1",
            since,
        )
        new = {str(r["referral_id"]) for r in rows} - arrived
        if new:
            arrived |= new
            last[0] = seen
        if rows:
            since = max(r["created_at"] for r in rows) - timedelta(seconds=10)


async def measure(size: str) -> None:
    count = SIZES[size]
    load = loadavg()
    figures = {}
    for replicas, nodes in LAYOUTS:
        figures[(replicas, nodes)] = await measure_layout(replicas, nodes, count)
    rows: list[dict[str, object]] = [
        {
            "layout": f"{f.replicas} replica(s), {f.nats_nodes} NATS node(s), stream R{f.nats_nodes}",
            "referrals": f.referrals,
            "end_to_end_per_s": f.per_second,
            "posts_per_s": f.posts_per_second,
        }
        for f in figures.values()
    ]
    for replicas in (1, 2):
        r1, r3 = figures[(replicas, 1)], figures[(replicas, 3)]
        rows.append(
            {
                "layout": f"ratio R3 ÷ R1, {replicas} replica(s)",
                "end_to_end_per_s": round(r3.per_second / r1.per_second, 3),
                "posts_per_s": round(r3.posts_per_second / r1.posts_per_second, 3),
            }
        )
    for nodes in (1, 3):
        one, two = figures[(1, nodes)], figures[(2, nodes)]
        rows.append(
            {
                "layout": f"ratio 2 ÷ 1 replicas, R{nodes}",
                "end_to_end_per_s": round(two.per_second / one.per_second, 3),
                "posts_per_s": round(two.posts_per_second / one.posts_per_second, 3),
            }
        )
    report(
        "scaling",
        size,
        rows,
        load_before=load,
        notes=(
            f"{count} referrals per layout from {OFFICERS} officers in a closed loop, posted to "
            "the intake replicas in turn; end to end = POST until the officer's CaseOpened "
            "message is committed in notify; every server and service on this one machine"
        ),
    )


def main(size: str) -> None:
    asyncio.run(measure(size))

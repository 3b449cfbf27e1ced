"""Resident memory (RSS, from /proc) of each service: just started, idle after a warm-up, at its
peak under load, and once the load has drained; against the smallest service on the same stack
(`bench.bare_service`: FastAPI, an asyncpg pool, a NATS connection, one insert endpoint) under
the same requests.

The load is referrals posted at concurrency 8: every service works on each (intake takes it,
casework opens a case on Temporal, notify tells the officer and the case manager, audit appends
every event to the ledger). Drained: the ledger holds every event every service stored.
"""

import asyncio
from typing import Any
from uuid import uuid4

import httpx

from bench.harness import (
    Service,
    closed_loop,
    loadavg,
    report,
    sample_rss,
    servers,
    service_process,
)
from bench.system import OFFICER_AGENCY, Stack, register_case_managers, stack, started
from offramp_devstack import free_port
from offramp_devstack.waiting import wait_for
from tests.referrals import referral_body

SIZES = {"smoke": 10, "quick": 100, "full": 2000}
CONCURRENCY = 8
WARM_UP = 20
SERVICES = ("intake", "casework", "notify", "audit")


async def measure(size: str) -> None:
    count = SIZES[size]
    load = loadavg()
    with servers(temporal=True) as running:
        config = await stack(running, "bench_memory")
        async with started(config, *SERVICES) as up:
            await register_case_managers(config, up["casework"], 5)
            ours = await profile(config, up, count, drained=lambda: _drained(config))
        async with service_process(
            "python",
            config.env,
            free_port(),
            running.home / "bare.log",
            argv=["-m", "bench.bare_service"],
        ) as bare:
            theirs = (await profile(config, {"bare": bare}, count, drained=None))["bare"]
    rows: list[dict[str, Any]] = [
        {
            "process": name,
            **figures,
            "idle_ratio": round(figures["idle_mib"] / theirs["idle_mib"], 2),
            "peak_ratio": round(figures["peak_mib"] / theirs["peak_mib"], 2),
        }
        for name, figures in ours.items()
    ]
    rows.append({"process": "bare service (baseline)", **theirs})
    report(
        "memory",
        size,
        rows,
        load_before=load,
        notes=(
            f"RSS in MiB: started, idle after {WARM_UP} referrals, peak while {count} referrals "
            f"are posted at concurrency {CONCURRENCY} and worked through every service, after "
            "they drained; ratios against the bare service (FastAPI + asyncpg + NATS, one insert "
            "endpoint) under the same posts"
        ),
    )


async def profile(
    config: Stack, up: dict[str, Service], count: int, *, drained: Any
) -> dict[str, dict[str, float]]:
    """Each process's memory at each moment, for referrals posted to whichever of `up` takes
    them (intake, or the bare service)."""
    target = up.get("intake") or up["bare"]
    figures: dict[str, dict[str, float]] = {
        name: {"started_mib": service.rss_mib()} for name, service in up.items()
    }
    token = config.token("officer-1", "officer", OFFICER_AGENCY)
    async with httpx.AsyncClient(
        base_url=target.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as client:

        async def refer(_: int) -> None:
            response = await client.post(
                "/referrals", json=referral_body(), headers={"Idempotency-Key": str(uuid4())}
            )
            if response.status_code != 201:
                raise RuntimeError(f"referral refused: {response.text}")

        await closed_loop(refer, count=WARM_UP, concurrency=4)
        if drained is not None:
            await wait_for(drained, timeout=120, what="the warm-up to drain")
        for name, service in up.items():
            figures[name]["idle_mib"] = service.rss_mib()
        peaks: dict[str, float] = {}
        sampler = asyncio.create_task(sample_rss({n: s.pid for n, s in up.items()}, peaks))
        try:
            await closed_loop(refer, count=count, concurrency=CONCURRENCY)
            if drained is not None:
                await wait_for(drained, timeout=120 + count / 2, what="the load to drain")
        finally:
            sampler.cancel()
            await asyncio.gather(sampler, return_exceptions=True)
    for name, service in up.items():
        figures[name]["peak_mib"] = peaks[name]
        figures[name]["drained_mib"] = service.rss_mib()
    return figures


async def _drained(config: Stack) -> bool:
    """Every admitted referral's officer was told, no outbox holds anything, and every event
    every service stored is in the ledger."""
    conn = await config.connect("public")
    try:
        admitted = await conn.fetchval(
            "SELECT count(*) FROM intake.events WHERE event_type = 'ReferralAdmitted'"
        )
        told = await conn.fetchval(
            "SELECT count(*) FROM notify.in_app_messages WHERE trigger = 'CaseOpened'"
        )
        if told < admitted:
            return False
        stored = 0
        for schema in SERVICES:
            stored += await conn.fetchval(f"SELECT count(*) FROM {schema}.events")
            if await conn.fetchval(f"SELECT count(*) FROM {schema}.outbox"):
                return False
        return bool(await conn.fetchval("SELECT count(*) FROM audit.ledger") >= stored)
    finally:
        await conn.close()


def main(size: str) -> None:
    asyncio.run(measure(size))

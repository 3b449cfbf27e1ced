"""Referral intake over HTTP at concurrency 1, 8 and 32, against raw asyncpg single-row inserts
at the same concurrency on the same Postgres.

Each accepted referral is a full use case: token check, validation, eligibility under the site
profile, three events, read models and outbox rows in one transaction, and the relay publishing
them to JetStream behind it. The raw baseline inserts one row of the same JSON per transaction.
"""

import asyncio
import json
from typing import Any
from uuid import uuid4

import asyncpg
import httpx

from bench.harness import Run, closed_loop, loadavg, report, servers
from bench.system import OFFICER_AGENCY, stack, started
from tests.referrals import referral_body

SIZES = {"smoke": 10, "quick": 200, "full": 3000}
CONCURRENCY = (1, 8, 32)


async def measure(size: str) -> None:
    count = SIZES[size]
    load = loadavg()
    with servers() as running:
        config = await stack(running, "bench_intake")
        dsn = config.dsn
        token = config.token("officer-1", "officer", OFFICER_AGENCY)
        body = referral_body("social_contact")
        rows: list[dict[str, Any]] = []
        async with started(config, "intake", env={"OFFRAMP_DB_POOL_MAX": "40"}) as up:
            limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
            async with httpx.AsyncClient(
                base_url=up["intake"].url,
                headers={"Authorization": f"Bearer {token}"},
                limits=limits,
            ) as client:

                async def refer(_: int) -> None:
                    response = await client.post(
                        "/referrals", json=body, headers={"Idempotency-Key": str(uuid4())}
                    )
                    if response.status_code != 201:
                        raise RuntimeError(f"referral refused: {response.text}")

                await closed_loop(refer, count=20, concurrency=4)  # warm up
                offramp = {
                    c: await closed_loop(refer, count=count, concurrency=c) for c in CONCURRENCY
                }

        raw = await raw_inserts(dsn, json.dumps(body), count)
        for c in CONCURRENCY:
            ours, theirs = offramp[c].summary(), raw[c].summary()
            rows.append(
                {
                    "concurrency": c,
                    "referrals_per_s": ours["per_second"],
                    "p50_ms": ours["p50_ms"],
                    "p95_ms": ours["p95_ms"],
                    "p99_ms": ours["p99_ms"],
                    "raw_inserts_per_s": theirs["per_second"],
                    "raw_p50_ms": theirs["p50_ms"],
                    "raw_p99_ms": theirs["p99_ms"],
                    "ratio": round(ours["per_second"] / theirs["per_second"], 3),
                }
            )
    report(
        "intake_http",
        size,
        rows,
        load_before=load,
        notes=f"{count} referrals per concurrency level; ratio = referrals/s ÷ raw inserts/s",
    )


async def raw_inserts(dsn: str, payload: str, count: int) -> dict[int, Run]:
    conn = await asyncpg.connect(dsn)
    await conn.execute(
        "CREATE TABLE raw_referrals (id uuid PRIMARY KEY, body jsonb NOT NULL, "
        "received_at timestamptz NOT NULL DEFAULT now())"
    )
    await conn.close()
    results: dict[int, Run] = {}
    for concurrency in CONCURRENCY:
        pool = await asyncpg.create_pool(dsn, min_size=concurrency, max_size=concurrency)
        try:

            async def insert(_: int, pool: asyncpg.Pool = pool) -> None:
                await pool.execute(
                    "INSERT INTO raw_referrals (id, body) VALUES ($1, $2::jsonb)", uuid4(), payload
                )

            results[concurrency] = await closed_loop(insert, count=count, concurrency=concurrency)
        finally:
            await pool.close()
    return results


def main(size: str) -> None:
    asyncio.run(measure(size))

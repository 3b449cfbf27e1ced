"""Referral intake over HTTP at concurrency 1, 8 and 32, against two raw asyncpg baselines at the
same concurrency on the same Postgres.

Each accepted referral is a full use case: token check, validation, eligibility under the site
profile, three events, read models and outbox rows in one transaction, and the relay publishing
them to JetStream behind it. The first baseline inserts one row of the same JSON per
transaction (PostgreSQL's commit rate). The second writes the rows a referral writes (three
events, three outbox rows, the referral's read-model row, its admission, the submission and the
idempotency answer, under the site's lock) in one statement, one round trip: the database work
of a referral with no Python in front of it. The intake process' CPU time per referral says
what the service itself costs, whatever else the machine runs.
"""

import asyncio
import json
import os
from pathlib import Path
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
                offramp: dict[int, Run] = {}
                cpu_ms: dict[int, float] = {}
                for c in CONCURRENCY:
                    before = cpu_seconds(up["intake"].pid)
                    offramp[c] = await closed_loop(refer, count=count, concurrency=c)
                    cpu_ms[c] = 1000 * (cpu_seconds(up["intake"].pid) - before) / count

        raw = await raw_inserts(dsn, json.dumps(body), count)
        whole = await raw_referral_transactions(dsn, json.dumps(body), count)
        for c in CONCURRENCY:
            ours, theirs, written = offramp[c].summary(), raw[c].summary(), whole[c].summary()
            rows.append(
                {
                    "concurrency": c,
                    "referrals_per_s": ours["per_second"],
                    "p50_ms": ours["p50_ms"],
                    "p95_ms": ours["p95_ms"],
                    "p99_ms": ours["p99_ms"],
                    "intake_cpu_ms_per_referral": round(cpu_ms[c], 2),
                    "raw_inserts_per_s": theirs["per_second"],
                    "raw_transactions_per_s": written["per_second"],
                    "raw_p50_ms": theirs["p50_ms"],
                    "raw_p99_ms": theirs["p99_ms"],
                    "ratio": round(ours["per_second"] / theirs["per_second"], 3),
                    "ratio_vs_transaction": round(ours["per_second"] / written["per_second"], 3),
                }
            )
    report(
        "intake_http",
        size,
        rows,
        load_before=load,
        notes=(
            f"{count} referrals per concurrency level; ratio = referrals/s ÷ raw single-row "
            "inserts/s; ratio_vs_transaction = referrals/s ÷ raw referral-shaped transactions/s"
        ),
    )


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used (utime + stime of /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
                    "INSERT INTO raw_referrals (id, body) VALUES ($1, $2::text::jsonb)",
                    uuid4(),
                    payload,
                )

            results[concurrency] = await closed_loop(insert, count=count, concurrency=concurrency)
        finally:
            await pool.close()
    return results


# The rows one admitted referral writes, into copies of intake's own tables, in one statement.
_REFERRAL_ROWS = """
WITH site AS (SELECT jurisdiction FROM raw_referral.sites WHERE jurisdiction = 'pontiac'
              FOR UPDATE),
     ev AS (INSERT INTO raw_referral.events (event_id, stream_id, stream_version, event_type,
                                             schema_version, envelope)
            SELECT id, 'referral-' || $1::uuid::text, n, 'Event' || n, 1, $2::text::jsonb
            FROM unnest($3::uuid[]) WITH ORDINALITY AS e(id, n)),
     ob AS (INSERT INTO raw_referral.outbox (event_id, subject, body, headers)
            SELECT id, 'bench.pontiac.intake.Event', convert_to($2::text, 'UTF8'), '{}'::jsonb
            FROM unnest($3::uuid[]) AS o(id)),
     rf AS (INSERT INTO raw_referral.referrals (referral_id, jurisdiction, officer_subject,
                                                officer_agency, door, status, received_at,
                                                policy_version, updated_at, person_key)
            VALUES ($1, 'pontiac', 'officer-1', 'pontiac-pd', 'social_contact', 'admitted',
                    now(), '2026.1', now(), md5($1::text))),
     ad AS (INSERT INTO raw_referral.admissions (referral_id, jurisdiction, admitted_at)
            SELECT $1, jurisdiction, now() FROM site),
     sb AS (INSERT INTO raw_referral.submissions (officer_agency, officer_subject,
                                                  idempotency_key, fingerprint, referral_id)
            VALUES ('pontiac-pd', 'officer-1', $1::text, md5($2::text), $1)),
     ik AS (INSERT INTO raw_referral.idempotency_keys (owner, idempotency_key, fingerprint,
                                                       status, headers, body)
            VALUES ('officer-1', $1::text, md5($2::text), 201, '[]', convert_to($2::text, 'UTF8')))
SELECT pg_notify('raw_referral', '')
"""


async def raw_referral_transactions(dsn: str, payload: str, count: int) -> dict[int, Run]:
    conn = await asyncpg.connect(dsn)
    await conn.execute("CREATE SCHEMA raw_referral")
    for table in (
        "events",
        "outbox",
        "referrals",
        "admissions",
        "submissions",
        "idempotency_keys",
        "sites",
    ):
        await conn.execute(f"CREATE TABLE raw_referral.{table} (LIKE intake.{table} INCLUDING ALL)")
    await conn.execute("INSERT INTO raw_referral.sites VALUES ('pontiac')")
    await conn.close()
    results: dict[int, Run] = {}
    for concurrency in CONCURRENCY:
        pool = await asyncpg.create_pool(dsn, min_size=concurrency, max_size=concurrency)
        try:

            async def write(_: int, pool: asyncpg.Pool = pool) -> None:
                await pool.execute(_REFERRAL_ROWS, uuid4(), payload, [uuid4(), uuid4(), uuid4()])

            results[concurrency] = await closed_loop(write, count=count, concurrency=concurrency)
        finally:
            await pool.close()
    return results


def main(size: str) -> None:
    asyncio.run(measure(size))

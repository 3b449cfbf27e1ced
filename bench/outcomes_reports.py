"""Outcomes reports over a large read model: each report computed as the service computes it
(counted by PostgreSQL as known on the date, tabulated and published with suppression), against
a raw SQL aggregate over the same rows (referrals by race and door, facts by kind, in one
statement).

The read model is filled directly with COPY (N referrals, about ten facts each: decided,
admitted, contacts, circumstances, an arrest for some), since what is measured is the report,
not the consumer (the ingest benchmark measures consumers); the folded rows the consumer keeps
alongside are then made in one statement (`folding.refold_missing`)."""

import asyncio
import random
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import asyncpg

from bench.harness import loadavg, report, servers
from outcomes.adapters.folding import refold_missing
from outcomes.adapters.tallies import PostgresTallies
from outcomes.bootstrap import migrations
from outcomes.domain.facts import ETHNICITY_GROUPS, RACE_GROUPS
from outcomes.domain.population import REPORTS, ReportQuery
from outcomes.use_cases import ComputeReport
from servicekit.database import create_pool
from servicekit.migrations import migrate

SIZES = {"smoke": 1_000, "quick": 10_000, "full": 100_000}
START = date(2023, 1, 1)
RAW = """SELECT r.race, r.door, f.kind, count(*)
         FROM facts f JOIN cases c ON c.case_id = f.case_id
         JOIN referrals r ON r.referral_id = c.referral_id
         WHERE f.jurisdiction = $1 AND f.recorded_at <= $2
         GROUP BY r.race, r.door, f.kind"""


async def fill(pool: asyncpg.Pool, referrals: int) -> tuple[int, float]:
    """Returns the facts written and the seconds the folded rows took to make."""
    generator = random.Random(1)
    recorded = datetime(2026, 1, 1, tzinfo=UTC)
    refs: list[tuple[Any, ...]] = []
    cases: list[tuple[Any, ...]] = []
    facts: list[tuple[Any, ...]] = []
    for i in range(referrals):
        rid, cid = uuid4(), uuid4()
        day = START + timedelta(days=i % 1000)
        refs.append((rid, "pontiac", f"{generator.getrandbits(128):032x}",
                     generator.choice(["arrest_diversion", "social_contact"]), "law_enforcement",
                     generator.choice(RACE_GROUPS), generator.choice(ETHNICITY_GROUPS), day,
                     recorded))  # fmt: skip
        facts.append((uuid4(), "pontiac", rid, None, "decided", "eligible", day, recorded))
        facts.append((uuid4(), "pontiac", rid, None, "admitted", "direct", day, recorded))
        cases.append((cid, rid, "pontiac", recorded))
        for kind, value, offset in (
            ("assessed", "within", 5), ("engaged", None, 6), ("housing", "unsheltered", 5),
            ("income", "no_income", 5), ("employment", "unemployed", 5),
            ("contact", None, 6), ("contact", None, 40), ("housing", "temporary", 90),
        ):  # fmt: skip
            facts.append((uuid4(), "pontiac", None, cid, kind, value,
                          day + timedelta(days=offset), recorded))  # fmt: skip
        if generator.random() < 0.3:
            facts.append((uuid4(), "pontiac", None, cid, "arrest", None,
                          day + timedelta(days=generator.randrange(10, 800)), recorded))  # fmt: skip
    async with pool.acquire() as conn:
        await conn.copy_records_to_table(
            "referrals", records=refs,
            columns=["referral_id", "jurisdiction", "person", "door", "source", "race",
                     "ethnicity", "referred_on", "recorded_at"],
        )  # fmt: skip
        await conn.copy_records_to_table(
            "cases",
            records=cases,
            columns=["case_id", "referral_id", "jurisdiction", "recorded_at"],
        )
        await conn.copy_records_to_table(
            "facts", records=facts,
            columns=["event_id", "jurisdiction", "referral_id", "case_id", "kind", "value",
                     "on_date", "recorded_at"],
        )  # fmt: skip
        # What the consumer keeps per referral as it keeps each fact, made here in one go.
        began = time.perf_counter()
        async with conn.transaction():
            await refold_missing(conn)
        folding = time.perf_counter() - began
        await conn.execute("ANALYZE")
    return len(facts), folding


async def measure(size: str) -> None:
    load = loadavg()
    with servers() as running:
        dsn = await running.postgres.create_database("bench_outcomes")
        pool = await create_pool(dsn, "outcomes", max_size=4)
        try:
            async with pool.acquire() as conn:
                await migrate(conn, "outcomes", migrations())
            events, folding = await fill(pool, SIZES[size])
            compute = ComputeReport(PostgresTallies(pool))
            now = datetime.now(UTC)
            began = time.perf_counter()
            await pool.fetch(RAW, "pontiac", now)
            raw = time.perf_counter() - began
            rows: list[dict[str, Any]] = []
            for name in REPORTS:
                began = time.perf_counter()
                await compute(ReportQuery(report=name, jurisdiction="pontiac", as_known_on=now))  # type: ignore[arg-type]
                seconds = time.perf_counter() - began
                rows.append({
                    "report": name, "referrals": SIZES[size], "facts": events,
                    "seconds": round(seconds, 3), "raw_sql_seconds": round(raw, 3),
                    "ratio": round(raw / seconds, 3), "under_1_s": seconds < 1,
                })  # fmt: skip
        finally:
            await pool.close()
    report(
        "outcomes_reports",
        size,
        rows,
        load_before=load,
        notes=(
            f"{SIZES[size]} referrals and {events} facts in the outcomes read model, their folded "
            f"rows made in {folding:.1f} s; each report counted, tabulated and suppressed as the "
            "service does (as known now: over the folded rows); raw: one GROUP BY over the facts"
        ),
    )


def main(size: str) -> None:
    asyncio.run(measure(size))

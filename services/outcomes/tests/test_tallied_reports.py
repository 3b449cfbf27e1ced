"""The reports the service serves (counted by PostgreSQL, `domain.tallied`) are the very reports
the reference builds by folding every history in Python (`domain.reports`, what the command
writes), cell for cell and suppression for suppression, on both of PostgreSQL's paths (the
folded rows kept per referral, for a date past everything recorded; the facts recorded by a
past date otherwise), over a population made to meet the awkward cases, kept one event at a
time in no particular order: re-referrals, facts recorded later than the report's date, several facts of one
instant, month ends, negative follow-up, ties between failed rules, statuses changed twice on
one day, case facts whose case is not known yet, another jurisdiction."""

import random
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any, get_args
from uuid import UUID, uuid4

import asyncpg
import pytest

from offramp_contracts.events.circumstances import EmploymentStatus, HousingStatus, IncomeStatus
from outcomes.adapters.folding import refold_missing
from outcomes.adapters.read_model import PostgresReadModel
from outcomes.adapters.tallies import Path, PostgresTallies
from outcomes.bootstrap import migrations
from outcomes.domain.facts import (
    ETHNICITY_GROUPS,
    RACE_GROUPS,
    CaseLink,
    Fact,
    FactKind,
    Folded,
    ReferralFact,
)
from outcomes.domain.population import (
    DOORS,
    REPORTS,
    SOURCES,
    Population,
    ReportName,
    ReportQuery,
    population,
)
from outcomes.domain.reports import BUILDERS, Report, build_report
from outcomes.domain.tables import Breakdown
from outcomes.domain.tallied import TALLIED, build_tallied_report
from servicekit.database import create_pool
from servicekit.migrations import migrate

BEGAN = datetime(2024, 1, 1, tzinfo=UTC)
CUTOFF = BEGAN + timedelta(days=700)
LATEST = BEGAN + timedelta(days=1000)
RULES = ("drug_quantity", "prior_violent_felony", "under_18", "pending_court_case", "informant")
VALUES: dict[str, tuple[str | None, ...]] = {
    "decided": ("eligible", "ineligible", "needs_review"),
    "reviewed": ("approved", "declined"),
    "admitted": ("direct", "from_waitlist"),
    "assessed": ("within", "late", "no_window"),
    "prosecutor_decision": ("continue", "file_charge"),
    "housing": get_args(HousingStatus),
    "income": get_args(IncomeStatus),
    "employment": get_args(EmploymentStatus),
    "closed": ("graduated", "declined_services", "moved_away"),
}
REFERRAL_KINDS: tuple[FactKind, ...] = (
    "decided", "reviewed", "waitlisted", "admitted", "withdrawn", "failed_rule",
)  # fmt: skip
CASE_KINDS: tuple[FactKind, ...] = (
    "assessed", "window_missed", "prosecutor_decision", "contact", "contact", "contact",
    "engaged", "inactive", "active", "housing", "income", "employment", "arrest", "closed",
)  # fmt: skip


def referral_day(generator: random.Random) -> date:
    """Month ends often, so that adding months has to clamp."""
    day = date(2023, 1, 1) + timedelta(days=generator.randrange(900))
    if generator.random() < 0.25:
        following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        day = following - timedelta(days=generator.choice((1, 2, 3)))
    return day


def instant(generator: random.Random) -> datetime:
    return BEGAN + timedelta(days=generator.randrange(1000), seconds=generator.randrange(3))


def events(generator: random.Random, jurisdiction: str, persons: list[str]) -> list[Folded]:
    """One referral's events, each folded as the consumer folds it, in no particular order."""
    rid, cid = uuid4(), uuid4()
    day = referral_day(generator)
    referral = ReferralFact(
        rid, jurisdiction, generator.choice(persons), generator.choice(DOORS),
        generator.choice(SOURCES), generator.choice(RACE_GROUPS),
        generator.choice(ETHNICITY_GROUPS), day, instant(generator),
    )  # fmt: skip
    found = [Folded(referral=referral)]
    if generator.random() < 0.8:
        found.append(Folded(case=CaseLink(cid, rid, jurisdiction, instant(generator))))
    for _ in range(generator.randrange(4, 24)):
        kind = generator.choice(REFERRAL_KINDS)
        owner: dict[str, UUID] = {"referral_id": rid}
        if generator.random() < 0.6:
            kind = generator.choice(CASE_KINDS)
            owner = {"case_id": cid}
        at, on = instant(generator), day + timedelta(days=generator.randrange(-5, 800))
        if kind == "failed_rule":
            # Decided with the rules it failed, as one event of one instant.
            rules = generator.sample(RULES, generator.randrange(1, 4))
            decided = Fact(uuid4(), jurisdiction, "decided", "ineligible", on, at, rid)
            failed = [Fact(decided.event_id, jurisdiction, kind, r, on, at, rid) for r in rules]
            found.append(Folded(facts=(decided, *failed)))
            continue
        value = generator.choice(VALUES.get(kind, (None,)))
        found.append(Folded(facts=(Fact(uuid4(), jurisdiction, kind, value, on, at, **owner),)))
        if kind in ("housing", "income") and generator.random() < 0.3:
            # Changed again the same day, recorded at the same instant.
            again = generator.choice(VALUES[kind])
            found.append(Folded(facts=(Fact(uuid4(), jurisdiction, kind, again, on, at, **owner),)))
    return found


@pytest.fixture(scope="module")
async def pool(servers: Any) -> AsyncIterator[asyncpg.Pool]:
    """Filled once for the module: the tests only read it."""
    database_url = await servers.postgres.create_database(f"t_{uuid4().hex[:12]}")
    pool = await create_pool(database_url, "outcomes", max_size=2)
    async with pool.acquire() as conn:
        await migrate(conn, "outcomes", migrations())
    generator = random.Random(13)
    persons = [f"{generator.getrandbits(128):032x}" for _ in range(220)]
    folded = [
        f
        for jurisdiction in ("pontiac",) * 400 + ("detroit",) * 40
        for f in events(generator, jurisdiction, persons)
    ]
    generator.shuffle(folded)
    read_model = PostgresReadModel(pool)
    async with pool.acquire() as conn, conn.transaction():
        for one in folded:
            await read_model.keep(conn, one)
    try:
        yield pool
    finally:
        await pool.close()


async def reference(pool: asyncpg.Pool, query: ReportQuery) -> tuple[Report, Population]:
    known = await PostgresReadModel(pool).known(query.jurisdiction, query.as_known_on)
    people = population(query, known.referrals, known.cases, known.facts)
    return build_report(query, people), people


QUERIES: list[dict[str, Any]] = [
    {"as_known_on": LATEST},
    {"as_known_on": CUTOFF, "threshold": 1},
    {"as_known_on": LATEST, "door": "arrest_diversion", "threshold": 3},
    {
        "as_known_on": LATEST,
        "period_from": date(2023, 6, 1),
        "period_to": date(2024, 5, 31),
        "threshold": 2,
    },
]


@pytest.mark.parametrize("report", REPORTS)
async def test_every_report_counted_in_postgres_is_the_report_folded_in_python(
    pool: asyncpg.Pool, report: ReportName
) -> None:
    tallies = PostgresTallies(pool)
    for options in QUERIES:
        query = ReportQuery(report=report, jurisdiction="pontiac", **options)
        expected, people = await reference(pool, query)
        # The folded rows hold everything recorded: they serve only a date past all of it.
        paths: tuple[Path, ...] = ("facts", "folded") if query.as_known_on == LATEST else ("facts",)
        assert await tallies.path_for(query) == paths[-1], options
        for path in paths:
            counted = await tallies.tally(query, path)
            # The tables before suppression first: a suppressed cell would hide a wrong count.
            breakdowns: tuple[Breakdown, ...] = ("race", "ethnicity")
            for b in breakdowns:
                made = list(TALLIED[report](counted, query, b))
                assert made == list(BUILDERS[report](people, query, b)), (path, options, b)
            served = build_tallied_report(query, counted)
            assert served == expected, (path, options)
        # Not a vacuous equality: the population fills the tables.
        assert any(c.count for t in expected.tables for c in t.cells.values()), options


async def test_the_rows_folded_one_event_at_a_time_are_those_folded_from_all_the_facts(
    pool: asyncpg.Pool,
) -> None:
    """Kept in the consumer's transaction, event by event and out of order, the folded rows end
    as a fold of every referral from scratch makes them."""
    folds = "SELECT * FROM folds ORDER BY referral_id"
    spans = "SELECT * FROM status_spans ORDER BY referral_id, kind, since, value, until"
    async with pool.acquire() as conn:
        kept = (await conn.fetch(folds), await conn.fetch(spans))
        assert len(kept[0]) == await conn.fetchval("SELECT count(*) FROM referrals")
        assert any(r["next_diversion"] for r in kept[0]) and any(r["first_arrest"] for r in kept[0])
        assert any(r["failed_rules"] for r in kept[0])
        assert await conn.fetchval(
            "SELECT count(*) FROM status_spans WHERE value <> 'not_recorded'"
        )
        tr = conn.transaction()
        await tr.start()
        try:
            await conn.execute("DELETE FROM folds; DELETE FROM status_spans")
            assert await refold_missing(conn) == len(kept[0])
            assert (await conn.fetch(folds), await conn.fetch(spans)) == kept
        finally:
            await tr.rollback()

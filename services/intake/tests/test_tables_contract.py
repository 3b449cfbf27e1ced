"""The `IntakeTables` port's contract, run against both implementations: the PostgreSQL tables
(`intake.adapters.tables`, migrated into the test's own database on the session's server) and
`intake.adapters.memory.MemoryTables`, which `test_handlers.py` runs the use cases on. A
difference here would let a use-case test pass in memory and the service fail."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from intake import bootstrap
from intake.adapters import tables as postgres_tables
from intake.adapters.memory import MemoryTables
from intake.domain.capacity import Waiting
from intake.ports import IntakeTables
from offramp_contracts.events.base import Door, StaffRef
from offramp_contracts.events.intake import Offence, Person, ReferralReceived, Screening
from servicekit.database import create_pool
from servicekit.memory import MemoryDatabase
from servicekit.migrations import migrate

AT = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Harness:
    tables: IntakeTables
    connect: Callable[[], AbstractAsyncContextManager[asyncpg.Connection]]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        async with self.connect() as conn, conn.transaction():
            yield conn


@pytest.fixture
async def postgres_pool(servers: Any, isolation: Any) -> AsyncIterator[asyncpg.Pool]:
    conn = await asyncpg.connect(isolation.database_url)
    try:
        await migrate(conn, "intake", bootstrap.migrations())
    finally:
        await conn.close()
    pool = await create_pool(isolation.database_url, "intake", max_size=2)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture(params=["memory", "postgres"])
def harness(request: pytest.FixtureRequest) -> Harness:
    if request.param == "memory":
        database = MemoryDatabase()
        return Harness(MemoryTables(database), database.acquire)
    pool: asyncpg.Pool = request.getfixturevalue("postgres_pool")
    return Harness(postgres_tables, pool.acquire)


def received(
    *, door: Door = "social_contact", agency: str = "pontiac-pd", referral_id: UUID | None = None
) -> ReferralReceived:
    return ReferralReceived(
        referral_id=referral_id or uuid4(),
        door=door,
        source="law_enforcement",
        person=Person(given_name="Sam", family_name="Rivera", date_of_birth=date(1990, 4, 2)),
        offence=Offence(category="trespass", occurred_at=AT - timedelta(hours=1)),
        screening=Screening(),
        referring_officer=StaffRef(subject="officer-17", agency=agency),
        policy_version="2026.1",
    )


async def insert(
    harness: Harness, conn: asyncpg.Connection, *, jurisdiction: str = "pontiac", key: str = "k"
) -> ReferralReceived:
    event = received()
    await harness.tables.insert_referral(
        conn, event, jurisdiction=jurisdiction, at=AT, person_key=key
    )
    return event


async def test_a_referral_row_shows_its_coarse_status_as_set(harness: Harness) -> None:
    async with harness.transaction() as conn:
        event = await insert(harness, conn)
        first = await harness.tables.referral(conn, event.referral_id)
        later = AT + timedelta(minutes=5)
        updated = await harness.tables.set_status(conn, event.referral_id, "admitted", later)

    assert first is not None
    assert (first.status, first.received_at, first.updated_at) == ("awaiting_review", AT, AT)
    assert (first.officer_subject, first.officer_agency) == ("officer-17", "pontiac-pd")
    assert (first.jurisdiction, first.door) == ("pontiac", "social_contact")
    assert (updated.status, updated.updated_at, updated.received_at) == ("admitted", later, AT)
    async with harness.connect() as conn:
        assert await harness.tables.referral(conn, event.referral_id) == updated
        assert await harness.tables.referral(conn, uuid4()) is None


async def test_a_key_is_claimed_once_per_officer_and_names_its_first_use(harness: Harness) -> None:
    first, second = uuid4(), uuid4()
    claim = {"agency": "pontiac-pd", "subject": "officer-17", "key": "key-1"}
    async with harness.transaction() as conn:
        assert (
            await harness.tables.claim_submission(conn, **claim, fingerprint="a", referral_id=first)
            is None
        )
        again = await harness.tables.claim_submission(
            conn, **claim, fingerprint="b", referral_id=second
        )
        third = await harness.tables.claim_submission(
            conn, **claim, fingerprint="c", referral_id=uuid4()
        )
        other = {**claim, "subject": "officer-18"}
        theirs = await harness.tables.claim_submission(
            conn, **other, fingerprint="b", referral_id=second
        )
    assert again == third == (first, "a"), "a retry never takes the key over"
    assert theirs is None, "another officer's key of the same name is theirs"


async def test_places_count_open_admissions_and_the_waitlist_of_the_site(
    harness: Harness,
) -> None:
    async with harness.transaction() as conn:
        await harness.tables.lock_site(conn, "pontiac")
        a, w, e = [await insert(harness, conn) for _ in range(3)]
        await harness.tables.record_waiting(
            conn, Waiting(w.referral_id, "social_contact", AT), "pontiac"
        )
        await harness.tables.record_waiting(
            conn, Waiting(a.referral_id, "social_contact", AT), "pontiac"
        )
        await harness.tables.record_admission(conn, a.referral_id, "pontiac", AT)
        await harness.tables.record_admission(conn, e.referral_id, "oakland-county", AT)
        taken = await harness.tables.places_taken(conn, "pontiac")
        empty = await harness.tables.places_taken(conn, "nowhere")

    assert taken == (1, [Waiting(w.referral_id, "social_contact", AT)]), "admitted: off the list"
    assert empty == (0, [])


async def test_a_closure_frees_a_place_once_and_only_where_it_was_admitted(
    harness: Harness,
) -> None:
    async with harness.transaction() as conn:
        event = await insert(harness, conn)
        await harness.tables.lock_site(conn, "pontiac")
        await harness.tables.record_admission(conn, event.referral_id, "pontiac", AT)
        closed = await harness.tables.record_closure(conn, event.referral_id, AT)
        twice = await harness.tables.record_closure(conn, event.referral_id, AT)
        never = await harness.tables.record_closure(conn, uuid4(), AT)
        taken = await harness.tables.places_taken(conn, "pontiac")
    assert (closed, twice, never) == ("pontiac", None, None)
    assert taken == (0, [])


async def test_participants_are_the_open_admissions_with_the_key_in_the_jurisdiction(
    harness: Harness,
) -> None:
    async with harness.transaction() as conn:
        late = await insert(harness, conn, key="sam")
        early = await insert(harness, conn, key="sam")
        closed = await insert(harness, conn, key="sam")
        waiting = await insert(harness, conn, key="sam")
        other_person = await insert(harness, conn, key="alex")
        other_place = await insert(harness, conn, key="sam", jurisdiction="oakland-county")
        for event, minutes in ((late, 3), (early, 1), (closed, 2), (other_person, 1)):
            at = AT + timedelta(minutes=minutes)
            await harness.tables.record_admission(conn, event.referral_id, "pontiac", at)
        await harness.tables.record_admission(conn, other_place.referral_id, "oakland-county", AT)
        await harness.tables.record_closure(conn, closed.referral_id, AT)
        await harness.tables.record_waiting(
            conn, Waiting(waiting.referral_id, "social_contact", AT), "pontiac"
        )
        found = await harness.tables.participants_with(
            conn, jurisdiction="pontiac", person_key="sam"
        )
    assert found == [(early.referral_id, "2026.1"), (late.referral_id, "2026.1")]


async def test_leaving_the_review_queue_and_the_waitlist_may_be_asked_twice(
    harness: Harness,
) -> None:
    async with harness.transaction() as conn:
        event = await insert(harness, conn)
        await harness.tables.queue_for_review(
            conn, event, (), jurisdiction="pontiac", prosecutor_agency="ada", at=AT
        )
        await harness.tables.record_waiting(
            conn, Waiting(event.referral_id, "social_contact", AT), "pontiac"
        )
        for _ in range(2):
            await harness.tables.leave_review(conn, event.referral_id)
            await harness.tables.leave_waitlist(conn, event.referral_id)
        # Gone from both: it may be queued and listed again.
        await harness.tables.queue_for_review(
            conn, event, (), jurisdiction="pontiac", prosecutor_agency="ada", at=AT
        )
        await harness.tables.record_waiting(
            conn, Waiting(event.referral_id, "social_contact", AT), "pontiac"
        )
        assert (await harness.tables.places_taken(conn, "pontiac"))[1] != []


@pytest.mark.parametrize("twice", ["insert_referral", "record_admission", "record_waiting"])
async def test_a_row_stored_twice_is_refused(harness: Harness, twice: str) -> None:
    with pytest.raises(asyncpg.UniqueViolationError):
        async with harness.transaction() as conn:
            event = await insert(harness, conn)
            for _ in range(2):
                if twice == "insert_referral":
                    await harness.tables.insert_referral(
                        conn, event, jurisdiction="pontiac", at=AT, person_key="k"
                    )
                elif twice == "record_admission":
                    await harness.tables.record_admission(conn, event.referral_id, "pontiac", AT)
                else:
                    entry = Waiting(event.referral_id, "social_contact", AT)
                    await harness.tables.record_waiting(conn, entry, "pontiac")


async def test_a_rolled_back_transaction_leaves_no_row(harness: Harness) -> None:
    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned):
        async with harness.transaction() as conn:
            event = await insert(harness, conn)
            await harness.tables.record_admission(conn, event.referral_id, "pontiac", AT)
            await harness.tables.claim_submission(
                conn, agency="a", subject="s", key="k", fingerprint="f", referral_id=uuid4()
            )
            raise Abandoned

    async with harness.transaction() as conn:
        assert await harness.tables.referral(conn, event.referral_id) is None
        assert await harness.tables.places_taken(conn, "pontiac") == (0, [])
        assert (
            await harness.tables.claim_submission(
                conn, agency="a", subject="s", key="k", fingerprint="g", referral_id=uuid4()
            )
            is None
        )

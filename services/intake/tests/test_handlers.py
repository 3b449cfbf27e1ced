"""Intake's use cases on the in-memory ports (cosmicpython's `test_handlers`): the decisions a
referral meets (admitted, sent to review, refused, waitlisted, retried under its key) with
no HTTP and no server, in milliseconds. The same ports in PostgreSQL keep the same contracts
(`lib/servicekit/tests/test_stream_store_contract.py`, `test_tables_contract.py` here); the
routes over real servers are pinned by `tests/e2e` and `tests/access`."""

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from uuid import UUID, uuid4

import pytest

from intake.adapters.memory import MemoryTables
from intake.domain.referral import Refused, SubmitReferral
from intake.use_cases import ArrestReport, Intake, NotFound, Request
from offramp_contracts import Actor, EventEnvelope
from offramp_contracts.events.base import StaffRef
from offramp_contracts.events.casework import CaseClosed
from offramp_contracts.events.intake import Offence, Person, Screening
from servicekit.auth import Principal
from servicekit.events import new_event, system_actor
from servicekit.inbox import Delivered
from servicekit.memory import MemoryDatabase, MemoryEventStore
from servicekit.profiles import ProfileBook, load_profiles
from tests.profiles import customised_profiles

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
OFFICER = Actor(subject="officer-17", agency="pontiac-pd", role="officer")
COLLEAGUE = Actor(subject="officer-18", agency="pontiac-pd", role="officer")
STRANGER = Actor(subject="deputy-3", agency="oakland-sheriff", role="officer")
PROSECUTOR = Actor(subject="ada-2", agency="oakland-prosecutor", role="prosecutor")
CLEAR = Screening(
    prior_violent_felony=False,
    exploits_minors=False,
    promotes_prostitution=False,
    dealing_above_subsistence=False,
    confidential_informant=False,
    pending_drug_court_case=False,
    pending_mental_health_court_case=False,
    no_contact_order_with_participant=False,
    complainant_objects=False,
    prior_area_activity_verified=True,
    prior_area_activity_on=date(2026, 8, 1),
    prior_area_activity_place="48342",
)


class World:
    """Intake wired to memory: its store, its tables, and what a test looks at."""

    def __init__(self, profiles: ProfileBook) -> None:
        self.database = database = MemoryDatabase()
        self.store = MemoryEventStore(database)
        self.tables = MemoryTables(database)
        self.intake = Intake(
            database.pool,
            self.store,
            profiles,
            clock=lambda: NOW,
            tables=self.tables,
        )

    def types(self) -> list[str]:
        return [event.event_type for event in self.store.events()]

    def stream(self, referral_id: UUID) -> list[EventEnvelope]:
        return [e for e in self.store.events() if e.stream_id == f"referral-{referral_id}"]


@pytest.fixture(scope="module")
def small_site(tmp_path_factory: pytest.TempPathFactory) -> ProfileBook:
    """The shipped profiles with one place at the pilot."""
    return load_profiles(
        customised_profiles(
            tmp_path_factory.mktemp("profiles"),
            {"pontiac.toml": {"capacity = 40": "capacity = 1"}},
        )
    )


@pytest.fixture
def world(small_site: ProfileBook) -> World:
    return World(small_site)


def request(actor: Actor = OFFICER) -> Request:
    return Request(actor, "pontiac", uuid4())


def referral(door: str = "social_contact", **changes: object) -> SubmitReferral:
    base = SubmitReferral(
        referral_id=uuid4(),
        door="social_contact",
        source="law_enforcement",
        person=Person(given_name="Sam", family_name="Rivera", date_of_birth=date(1990, 4, 2)),
        offence=Offence(category="trespass", occurred_at=NOW - timedelta(hours=1)),
        screening=CLEAR,
        referring_officer=StaffRef(subject=OFFICER.subject, agency=OFFICER.agency),
    )
    return replace(base, door=door, **changes)  # type: ignore[arg-type]


async def submit(
    world: World, command: SubmitReferral, *, key: str | None = None, fingerprint: str = "body"
) -> str:
    submitted = await world.intake.submit(
        command, request(), idempotency_key=key or str(uuid4()), fingerprint=fingerprint
    )
    return submitted.referral.status


async def test_a_clear_social_contact_is_admitted_in_one_chain_of_events(world: World) -> None:
    command = referral()
    assert await submit(world, command) == "admitted"

    stream = world.stream(command.referral_id)
    assert [e.event_type for e in stream] == [
        "ReferralReceived",
        "EligibilityDecided",
        "ReferralAdmitted",
    ]
    assert [e.causation_id for e in stream[1:]] == [e.event_id for e in stream[:-1]]
    assert len({e.correlation_id for e in stream}) == 1
    assert world.tables.open_admissions("pontiac") == [command.referral_id]
    assert len(world.store.outbox) == 3


async def test_an_arrest_diversion_waits_for_the_prosecutor_who_alone_may_approve_it(
    world: World,
) -> None:
    command = referral("arrest_diversion")
    assert await submit(world, command) == "awaiting_review"
    (queued,) = world.tables.reviews()
    assert (queued.referral_id, queued.prosecutor_agency) == (
        command.referral_id,
        "oakland-prosecutor",
    )

    with pytest.raises(NotFound):
        await world.intake.review(
            command.referral_id, request(STRANGER), verdict="approved", reason="fine"
        )
    assert len(world.stream(command.referral_id)) == 2, "a refused review stores nothing"

    row = await world.intake.review(
        command.referral_id, request(PROSECUTOR), verdict="approved", reason="suitable"
    )
    assert row.status == "admitted"
    assert world.tables.reviews() == []
    assert [e.event_type for e in world.stream(command.referral_id)][2:] == [
        "ReferralReviewed",
        "EligibilityDecided",
        "ReferralAdmitted",
    ]


async def test_a_failed_rule_makes_it_ineligible_and_takes_no_place(world: World) -> None:
    command = referral(screening=CLEAR.model_copy(update={"prior_violent_felony": True}))
    assert await submit(world, command) == "ineligible"
    assert world.tables.open_admissions("pontiac") == []
    assert world.tables.reviews() == []


async def test_a_refused_submission_leaves_nothing_not_even_its_key(world: World) -> None:
    with pytest.raises(Refused) as refused:
        await submit(world, referral("community"), key="key-00000001", fingerprint="one")
    assert (refused.value.kind, refused.value.status) == ("door-closed", 422)
    assert world.store.outbox == ()

    # The claim of the key was rolled back with the rest: another referral may use it.
    assert await submit(world, referral(), key="key-00000001", fingerprint="two") == "admitted"


async def test_a_retry_under_its_key_answers_the_first_referral_and_stores_nothing(
    world: World,
) -> None:
    first = referral()
    await submit(world, first, key="key-00000002", fingerprint="same")
    stored = len(world.store.outbox)

    again = await world.intake.submit(
        referral(), request(), idempotency_key="key-00000002", fingerprint="same"
    )
    assert again.replayed and again.referral.referral_id == first.referral_id
    assert len(world.store.outbox) == stored

    with pytest.raises(Refused) as refused:
        await submit(world, referral(), key="key-00000002", fingerprint="another body")
    assert refused.value.kind == "idempotency-key-reused"
    assert len(world.store.outbox) == stored


async def test_a_full_site_waitlists_and_a_closed_case_admits_the_next(world: World) -> None:
    first, second = referral(), referral()
    assert await submit(world, first) == "admitted"
    assert await submit(world, second) == "waitlisted"
    assert [w.referral_id for w in world.tables.waiting("pontiac")] == [second.referral_id]

    closed = new_event(
        CaseClosed(case_id=uuid4(), referral_id=first.referral_id, reason="graduated"),
        stream_id="case-x",
        stream_version=9,
        jurisdiction="pontiac",
        actor=system_actor("casework"),
        correlation_id=uuid4(),
        causation_id=None,
    )
    async with world.database.acquire() as conn, conn.transaction():
        await world.intake.on_case_closed(conn, Delivered(closed, "t.pontiac.casework.CaseClosed"))

    assert world.tables.open_admissions("pontiac") == [second.referral_id]
    admitted = world.stream(second.referral_id)[-1]
    assert admitted.event_type == "ReferralAdmitted"
    assert admitted.causation_id == closed.event_id, "the closure caused the admission"
    assert (await world.intake.referral_for(second.referral_id, request())).status == "admitted"


async def test_two_reviews_at_once_one_is_stored_the_other_refused(world: World) -> None:
    command = referral("arrest_diversion")
    await submit(world, command)

    async def verdict(verdict: Literal["approved", "declined"]) -> str:
        row = await world.intake.review(
            command.referral_id, request(PROSECUTOR), verdict=verdict, reason="r"
        )
        return row.status

    results = await asyncio.gather(verdict("approved"), verdict("declined"), return_exceptions=True)
    refusals = [r for r in results if isinstance(r, Refused)]
    assert len(refusals) == 1 and refusals[0].kind == "not-awaiting-review", results
    assert world.types().count("ReferralReviewed") == 1


async def test_only_the_referring_officer_or_a_supervisor_may_withdraw(world: World) -> None:
    held, waiting = referral(), referral()
    await submit(world, held)
    await submit(world, waiting)

    with pytest.raises(NotFound):
        await world.intake.withdraw(waiting.referral_id, request(COLLEAGUE), reason="no")
    supervisor = Actor(subject="sgt-1", agency="pontiac-pd", role="supervisor")
    row = await world.intake.withdraw(waiting.referral_id, request(supervisor), reason="moved")
    assert row.status == "withdrawn"
    assert world.tables.waiting("pontiac") == []


async def test_an_arrest_report_reaches_only_a_current_participant(world: World) -> None:
    participant = referral()
    await submit(world, participant)
    officer = Principal("officer-17", "pontiac-pd", "pontiac", frozenset({"officer"}))
    sam = ArrestReport("Sam", "Rivera", date(1990, 4, 2), arrested_on=date(2026, 11, 1))

    assert await world.intake.report_arrest(request(), officer, sam) == "recorded_for_a_participant"
    nobody = replace(sam, given_name="Alex")
    assert await world.intake.report_arrest(request(), officer, nobody) == "not_a_participant"

    assert world.types()[3:] == ["ParticipantArrestReported", "RecordAccessed", "RecordAccessed"]
    (reported,) = [e for e in world.store.events() if e.event_type == "ParticipantArrestReported"]
    assert reported.data["referral_id"] == str(participant.referral_id)

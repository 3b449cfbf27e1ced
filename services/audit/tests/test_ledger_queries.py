"""The ledger's use cases over the reads port: one contract for the port, run against the
in-memory and the PostgreSQL implementation, and the queries' own answers and refusals over the
in-memory one (no server: milliseconds)."""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.adapters.ledger_reads import InMemoryLedgerReads, LedgerReads, PostgresLedgerReads
from audit.adapters.ledger_store import append_batch
from audit.adapters.signing_key import SigningKeyMissing
from audit.domain.refusals import NotFound
from audit.domain.timeline import LedgerEvent
from audit.settings import AuditSettings
from audit.use_cases import CaseAsOf, LedgerQueries, ShowCheckpoint, VerifyLedger
from offramp_contracts import EventEnvelope, subject_for
from offramp_contracts.identifiers import case_id_for_referral
from servicekit.problems import Problem
from servicekit.provenance import KeySet
from tests.producers import arrival

Fill = Callable[[list[EventEnvelope]], Awaitable[LedgerReads]]
START = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(params=["memory", "postgres"])
def ledger_of(request: pytest.FixtureRequest) -> Fill:
    """The same events appended to the ledger of each implementation, in the order given."""
    if request.param == "memory":

        async def in_memory(events: list[EventEnvelope]) -> LedgerReads:
            held = [LedgerEvent(seq, e) for seq, e in enumerate(events, start=1)]
            return InMemoryLedgerReads(events=held)

        return in_memory
    pool = request.getfixturevalue("role_pool")

    async def in_postgres(events: list[EventEnvelope]) -> LedgerReads:
        subjects = [subject_for("lead", e.jurisdiction, e.event_type) for e in events]
        async with pool.acquire() as conn, conn.transaction():
            await append_batch(conn, [arrival(s, e) for s, e in zip(subjects, events, strict=True)])
        return PostgresLedgerReads(pool)

    return in_postgres


def a_referral_that_opened_a_case(event_of: Any) -> tuple[list[EventEnvelope], list[int], UUID]:
    """A referral's and its case's events among others; the positions of ours, the referral."""
    referral = uuid4()
    case = case_id_for_referral(referral)
    ours = [
        event_of(0, event_type="ReferralReceived", data={"referral_id": str(referral)}),
        event_of(
            0, event_type="CaseOpened", data={"case_id": str(case), "referral_id": str(referral)}
        ),
        event_of(0, event_type="ClientEngaged", data={"case_id": str(case)}),
    ]
    ours = [
        e.model_copy(update={"recorded_at": START + timedelta(days=i)}) for i, e in enumerate(ours)
    ]
    others = [event_of(n) for n in range(3)]
    return [others[0], ours[0], others[1], ours[1], others[2], ours[2]], [2, 4, 6], referral


# -- the reads port, whichever implementation -----------------------------------------------


async def test_a_case_history_holds_the_referral_that_opened_it_in_ledger_order(
    ledger_of: Fill, event_of: Any
) -> None:
    events, positions, referral = a_referral_that_opened_a_case(event_of)
    reads = await ledger_of(events)
    case_id = case_id_for_referral(referral)

    by_case = await reads.case_events(case_id)

    assert [e.seq for e in by_case] == positions
    assert [e.event.event_type for e in by_case] == [
        "ReferralReceived",
        "CaseOpened",
        "ClientEngaged",
    ]
    assert await reads.referral_events(referral) == by_case


async def test_a_referral_without_a_case_has_its_own_events_only(
    ledger_of: Fill, event_of: Any
) -> None:
    referral = uuid4()
    received = event_of(0, event_type="ReferralReceived", data={"referral_id": str(referral)})
    reads = await ledger_of([event_of(0), received])

    found = await reads.referral_events(referral)

    assert [(e.seq, e.event.event_type) for e in found] == [(2, "ReferralReceived")]
    assert await reads.case_events(uuid4()) == []


async def test_a_ledger_without_checkpoints_has_none_to_show(
    ledger_of: Fill, event_of: Any
) -> None:
    reads = await ledger_of([event_of(0)])
    assert await reads.checkpoints() == []
    assert await reads.checkpoint(1) is None


# -- the queries, over the in-memory reads --------------------------------------------------


def queries(
    reads: LedgerReads, *, key: Ed25519PrivateKey | None = None, fold: Any = None
) -> LedgerQueries:
    return LedgerQueries(
        settings=AuditSettings(),
        pool=None,  # these queries read through the port alone
        reads=reads,
        producer_keys=KeySet({}),
        signing_key=key,
        case_fold=fold,
    )


async def test_a_missing_checkpoint_is_refused_as_not_in_the_ledger() -> None:
    with pytest.raises(NotFound, match="no checkpoint 7") as refused:
        await queries(InMemoryLedgerReads()).checkpoint(ShowCheckpoint(7))
    assert (refused.value.status, refused.value.kind, refused.value.title) == (
        404,
        "not-found",
        "Not in the ledger",
    )
    assert not isinstance(refused.value, Problem)


async def test_a_case_as_of_an_instant_knows_what_was_recorded_by_then(event_of: Any) -> None:
    events, _, referral = a_referral_that_opened_a_case(event_of)
    reads = InMemoryLedgerReads(events=[LedgerEvent(n, e) for n, e in enumerate(events, 1)])
    case_id = case_id_for_referral(referral)
    at = START + timedelta(days=1)

    folded = await queries(reads, fold=len).case_as_of(CaseAsOf(case_id, at))
    unfolded = await queries(reads).case_as_of(CaseAsOf(case_id, at))

    assert [e.event.event_type for e in folded.events] == ["ReferralReceived", "CaseOpened"]
    assert (folded.state, folded.state_note) == (2, None)
    assert unfolded.state is None
    assert unfolded.state_note == "no case lifecycle to fold with yet: events only"


async def test_verifying_against_the_ledgers_own_key_needs_that_key() -> None:
    with pytest.raises(SigningKeyMissing):
        await queries(InMemoryLedgerReads()).verify(VerifyLedger())

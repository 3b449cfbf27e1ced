"""The ledger in the real Postgres: what its role may do, concurrent appenders, checkpoints
signed and announced, proofs served from the stored ledger, and case histories."""

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import asyncpg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import proofs
from audit.adapters import checkpoint_store, history_store, ledger_store
from audit.adapters.checkpoint_store import Checkpointer
from audit.domain.bundle import check_bundle
from audit.domain.checkpoint import CheckpointPolicy, SignedCheckpoint, key_id, signature_problem
from audit.domain.timeline import state_as_of
from audit.settings import LEDGER_DB_ROLE
from offramp_contracts import EventEnvelope, payload_of, subject_for
from offramp_contracts.events.audit import CheckpointSigned
from offramp_contracts.identifiers import case_id_for_referral
from servicekit.eventstore import EventStore
from servicekit.outbox import notify_channel
from tests.producers import PRODUCER_KEYS, arrival

SUBJECT = "lead.pontiac.casework.ClientEngaged"
KEY = Ed25519PrivateKey.generate()


async def append(pool: asyncpg.Pool, events: list[EventEnvelope]) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await ledger_store.append_batch(
            conn, [arrival(subject_for("lead", e.jurisdiction, e.event_type), e) for e in events]
        )


def checkpointer(every_entries: int = 1000, every_seconds: float = 3600) -> Checkpointer:
    return Checkpointer(
        key=KEY,
        policy=CheckpointPolicy(every_entries, every_seconds),
        origin="test-ledger",
        jurisdiction="county",
        store=EventStore(subject_root="lead", notify_channel=notify_channel("audit")),
    )


async def sign_if_due(pool: asyncpg.Pool, signer: Checkpointer) -> SignedCheckpoint | None:
    async with pool.acquire() as conn:
        return await signer.sign_if_due(conn, await ledger_store.read_head(conn))


# -- what the service's role may do ---------------------------------------------------------


async def test_the_service_sessions_act_as_the_ledger_role(role_pool: asyncpg.Pool) -> None:
    assert await role_pool.fetchval("SELECT current_user") == LEDGER_DB_ROLE


async def test_the_ledger_role_appends_and_reads(role_pool: asyncpg.Pool, event_of: Any) -> None:
    await append(role_pool, [event_of(n) for n in range(3)])
    assert await role_pool.fetchval("SELECT count(*) FROM ledger") == 3


@pytest.mark.parametrize("table", ["ledger", "checkpoints", "ledger_reads"])
@pytest.mark.parametrize(
    "statement",
    ["UPDATE {table} SET {column} = {column}", "DELETE FROM {table}", "TRUNCATE {table}"],
)
async def test_the_ledger_role_may_not_change_or_remove_anything(
    role_pool: asyncpg.Pool, table: str, statement: str
) -> None:
    """Refused by privileges, before any trigger runs: the message is the privilege's."""
    column = {"ledger": "subject", "checkpoints": "origin", "ledger_reads": "action"}[table]
    with pytest.raises(
        asyncpg.InsufficientPrivilegeError, match=f"permission denied for table {table}"
    ):
        await role_pool.execute(statement.format(table=table, column=column))


@pytest.mark.parametrize(
    "statement",
    ["UPDATE {table} SET {column} = {column}", "DELETE FROM {table}", "TRUNCATE {table}"],
)
@pytest.mark.parametrize("table", ["checkpoints", "ledger_reads"])
async def test_triggers_refuse_the_owner_too(
    owner_pool: asyncpg.Pool, role_pool: asyncpg.Pool, event_of: Any, table: str, statement: str
) -> None:
    await append(role_pool, [event_of(1)])
    await sign_if_due(role_pool, checkpointer(every_entries=1))
    await role_pool.execute(
        "INSERT INTO ledger_reads (subject, agency, roles, action, outcome) "
        "VALUES ('a', 'b', '{auditor}', 'GET /ledger/verify', 'allowed')"
    )
    column = {"checkpoints": "origin", "ledger_reads": "action"}[table]
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await owner_pool.execute(statement.format(table=table, column=column))
    assert await owner_pool.fetchval(f"SELECT count(*) FROM {table}") == 1


# -- concurrent appenders -------------------------------------------------------------------


async def test_concurrent_appenders_make_one_gapless_chain_without_duplicates(
    role_pool: asyncpg.Pool, event_of: Any
) -> None:
    events = [event_of(n) for n in range(80)]
    rng = random.Random(5)

    async def producer(share: list[EventEnvelope]) -> None:
        for start in range(0, len(share), 7):
            await append(role_pool, share[start : start + 7])

    # Every event reaches the ledger through at least one producer, most through several.
    shares = [events] + [rng.sample(events, 40) for _ in range(5)]
    await asyncio.gather(*(producer(share) for share in shares))

    rows = await role_pool.fetch("SELECT seq, event_id FROM ledger ORDER BY seq")
    assert [r["seq"] for r in rows] == list(range(1, 81))
    assert {r["event_id"] for r in rows} == {e.event_id for e in events}
    report = await ledger_store.walk(role_pool, [], {})
    assert report.intact and report.entries_checked == 80


# -- checkpoints ----------------------------------------------------------------------------


async def test_a_checkpoint_is_signed_when_n_events_are_due_and_announced_with_it(
    role_pool: asyncpg.Pool, event_of: Any
) -> None:
    signer = checkpointer(every_entries=5)
    await append(role_pool, [event_of(n) for n in range(4)])
    assert await sign_if_due(role_pool, signer) is None
    await append(role_pool, [event_of(4)])
    signed = await sign_if_due(role_pool, signer)
    assert signed is not None
    assert (signed.body.number, signed.body.tree_size) == (1, 5)
    assert signature_problem(signed, {key_id(KEY.public_key()): KEY.public_key()}) is None
    assert await checkpoint_store.all_checkpoints(role_pool) == [signed]

    envelope = await role_pool.fetchval("SELECT envelope FROM events")
    announced = payload_of(EventEnvelope.model_validate_json(envelope))
    assert isinstance(announced, CheckpointSigned)
    assert (announced.number, announced.root_hash) == (1, signed.body.root_hash)
    assert announced.signature == signed.signature
    outbox = await role_pool.fetchval("SELECT subject FROM outbox")
    assert outbox == "lead.county.audit.CheckpointSigned"


async def test_a_checkpoint_is_due_after_t_seconds_but_not_for_its_own_announcement(
    role_pool: asyncpg.Pool, event_of: Any
) -> None:
    signer = checkpointer(every_entries=1000, every_seconds=0.0)
    assert await sign_if_due(role_pool, signer) is None  # nothing to sign
    await append(role_pool, [event_of(1)])
    assert await sign_if_due(role_pool, signer) is not None
    announcement = EventEnvelope.model_validate_json(
        await role_pool.fetchval("SELECT envelope FROM events")
    )
    async with role_pool.acquire() as conn, conn.transaction():
        await ledger_store.append_batch(
            conn, [arrival("lead.county.audit.CheckpointSigned", announcement)]
        )
    assert await sign_if_due(role_pool, signer) is None  # an idle ledger does not sign forever


# -- proofs from the stored ledger ----------------------------------------------------------


async def two_checkpoints(pool: asyncpg.Pool, event_of: Any) -> None:
    signer = checkpointer(every_entries=1)
    await append(pool, [event_of(n) for n in range(5)])
    await sign_if_due(pool, signer)
    await append(pool, [event_of(n) for n in range(5, 12)])
    await sign_if_due(pool, signer)


async def test_served_proofs_and_exports_check_out(role_pool: asyncpg.Pool, event_of: Any) -> None:
    await two_checkpoints(role_pool, event_of)
    public = KEY.public_key()
    for bundle in [
        await proofs.inclusion(role_pool, public, PRODUCER_KEYS, seq=3, checkpoint=1),
        await proofs.inclusion(role_pool, public, PRODUCER_KEYS, seq=12, checkpoint=None),
        await proofs.consistency(role_pool, public, first=1, second=2),
        await proofs.export(role_pool, public, PRODUCER_KEYS, first=2, last=11, checkpoint=2),
    ]:
        result = check_bundle(bundle, public)
        assert result.ok, result.problems


async def test_a_tampered_export_or_a_foreign_key_is_refused(
    role_pool: asyncpg.Pool, event_of: Any
) -> None:
    await two_checkpoints(role_pool, event_of)
    bundle = await proofs.export(
        role_pool, KEY.public_key(), PRODUCER_KEYS, first=2, last=11, checkpoint=2
    )
    bundle["entries"][3]["entry"] = bundle["entries"][3]["entry"].replace("pontiac", "elsewhere")
    assert any("entry 5" in p for p in check_bundle(bundle, KEY.public_key()).problems)

    untouched = await proofs.export(
        role_pool, KEY.public_key(), PRODUCER_KEYS, first=2, last=3, checkpoint=1
    )
    stranger = Ed25519PrivateKey.generate().public_key()
    assert not check_bundle(untouched, stranger).ok


async def test_proofs_beyond_what_a_checkpoint_signed_are_refused(
    role_pool: asyncpg.Pool, event_of: Any
) -> None:
    await two_checkpoints(role_pool, event_of)
    with pytest.raises(proofs.BadRange, match="signs entries 1 to 5 only"):
        await proofs.inclusion(role_pool, KEY.public_key(), PRODUCER_KEYS, seq=6, checkpoint=1)
    with pytest.raises(proofs.NotFound):
        await proofs.consistency(role_pool, KEY.public_key(), first=1, second=9)


# -- history and as-of ----------------------------------------------------------------------


async def test_a_case_history_runs_from_its_referral_in_ledger_order(
    role_pool: asyncpg.Pool, event_of: Any
) -> None:
    referral = uuid4()
    case = case_id_for_referral(referral)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    ours = [
        event_of(0, event_type="ReferralReceived", data={"referral_id": str(referral)}),
        event_of(0, event_type="EligibilityDecided", data={"referral_id": str(referral)}),
        event_of(
            0,
            event_type="CaseOpened",
            data={"case_id": str(case), "referral_id": str(referral)},
        ),
        event_of(0, event_type="ClientEngaged", data={"case_id": str(case)}),
    ]
    ours = [
        e.model_copy(update={"recorded_at": start + timedelta(days=i)}) for i, e in enumerate(ours)
    ]
    others = [event_of(n) for n in range(3)]
    await append(role_pool, [others[0], ours[0], ours[1], others[1], ours[2], others[2], ours[3]])

    by_case = await history_store.case_events(role_pool, case)
    by_referral = await history_store.referral_events(role_pool, referral)
    assert [e.event.event_id for e in by_case] == [e.event_id for e in ours]
    assert by_referral == by_case
    assert [e.seq for e in by_case] == [2, 3, 5, 7]

    known, state = state_as_of(by_case, start + timedelta(days=2), fold=len)
    assert [e.event.event_type for e in known] == [
        "ReferralReceived",
        "EligibilityDecided",
        "CaseOpened",
    ]
    assert state == 3


async def test_the_as_of_statement_answers_what_was_recorded_by_then_case_opened_or_not(
    role_pool: asyncpg.Pool, event_of: Any
) -> None:
    referral = uuid4()
    case = case_id_for_referral(referral)
    start = datetime(2026, 4, 1, 9, 30, 0, 123456, tzinfo=UTC)
    ours = [
        event_of(0, event_type="ReferralReceived", data={"referral_id": str(referral)}),
        event_of(0, event_type="EligibilityDecided", data={"referral_id": str(referral)}),
        event_of(
            0, event_type="CaseOpened", data={"case_id": str(case), "referral_id": str(referral)}
        ),
        event_of(0, event_type="ClientEngaged", data={"case_id": str(case)}),
    ]
    ours = [
        e.model_copy(update={"recorded_at": start + timedelta(hours=i)}) for i, e in enumerate(ours)
    ]
    await append(role_pool, [event_of(9), ours[0], ours[1], ours[2], event_of(8), ours[3]])
    whole = await history_store.case_events(role_pool, case)
    instants = [start - timedelta(microseconds=1), start, start + timedelta(hours=1, seconds=1)]
    instants += [start + timedelta(hours=2), start + timedelta(days=1)]
    for instant in instants:
        as_of = await history_store.case_events_as_of(role_pool, case, instant)
        # Exactly what the whole history holds by then, to the microsecond; before the case
        # opened, its referral's entries are already there.
        assert as_of == [e for e in whole if e.event.recorded_at <= instant]
    before_opening = await history_store.case_events_as_of(
        role_pool, case, start + timedelta(hours=1, seconds=1)
    )
    assert [e.event.event_type for e in before_opening] == [
        "ReferralReceived",
        "EligibilityDecided",
    ]
    assert await history_store.case_events_as_of(role_pool, uuid4(), instants[-1]) == []

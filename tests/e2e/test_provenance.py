"""Only the service that owns a fact can publish it: what an attacker on the bus (here the admin
user, who may publish anything) sends without the owner's signature is parked by casework's
consumer and by the ledger, and never opens a case or becomes an entry; the ledger proves who
wrote each entry, names a forged one, and keeps old entries verifiable across a key rotation."""

import base64
import json
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
import uuid6
from nats.aio.client import Client as NATS

from audit.domain.chain import canonical, chain_hash, ledger_entry
from offramp_contracts import Actor, EventEnvelope, subject_for
from offramp_contracts.events.base import StaffRef
from offramp_contracts.events.intake import ReferralAdmitted
from servicekit.event_keys import rotate_signing_key
from servicekit.events import new_event
from servicekit.provenance import KEY_ID_HEADER, SIGNATURE_HEADER
from servicekit.settings import ServiceSettings
from tests.bus import republish, signed_headers
from tests.conftest import System, wait_for

pytestmark = pytest.mark.services("casework", "audit")

OFFICER = StaffRef(subject="officer-7", agency="pontiac-pd")


def an_admission() -> EventEnvelope:
    """A ReferralAdmitted for a referral intake never had, 'by' a prosecutor."""
    referral_id = uuid6.uuid7()
    return new_event(
        ReferralAdmitted(
            referral_id=referral_id,
            door="arrest_diversion",
            referring_officer=OFFICER,
            policy_version="2026.1",
            from_waitlist=False,
        ),
        stream_id=f"referral-{referral_id}",
        stream_version=3,
        jurisdiction="pontiac",
        actor=Actor(subject="ada-1", agency="oakland-prosecutor", role="prosecutor"),
        correlation_id=uuid4(),
        causation_id=None,
    )


async def parked(db: asyncpg.Connection, schema: str, event_id: UUID) -> str | None:
    """The reason a consumer of `schema` parked the message with this event in it."""
    rows = await db.fetch(f"SELECT body, error FROM {schema}.dead_letters")
    for row in rows:
        if json.loads(row["body"]).get("event_id") == str(event_id):
            return str(row["error"])
    return None


async def never_applied(db: asyncpg.Connection, event: EventEnvelope) -> None:
    """Parked by both consumers of the subject, and nowhere else: no inbox row, no case event,
    no ledger entry."""
    for schema in ("casework", "audit"):

        async def found(schema: str = schema) -> str | None:
            return await parked(db, schema, event.event_id)

        await wait_for(found, timeout=60, what=f"{schema} to park {event.event_type}")
    assert not await db.fetchval(
        "SELECT count(*) FROM casework.inbox WHERE event_id = $1", event.event_id
    )
    referral = str(event.data["referral_id"])
    assert not await db.fetchval(
        "SELECT count(*) FROM casework.events WHERE envelope #>> '{data,referral_id}' = $1",
        referral,
    )
    assert not await db.fetchval(
        "SELECT count(*) FROM audit.ledger WHERE event_id = $1", event.event_id
    )


async def publish(nats: NATS, subject: str, event: EventEnvelope, headers: dict[str, str]) -> None:
    await nats.jetstream().publish(subject, event.wire_json(), headers=headers)


def own_subject(isolation: Any, event: EventEnvelope) -> str:
    return subject_for(isolation.subject_root, event.jurisdiction, event.event_type)


async def test_an_unsigned_event_is_parked_and_never_applied(
    system: System, nats_client: NATS, isolation: Any, admin_db: asyncpg.Connection
) -> None:
    event = an_admission()
    await publish(nats_client, own_subject(isolation, event), event, {})
    await never_applied(admin_db, event)
    reason = await parked(admin_db, "casework", event.event_id)
    assert reason is not None and "unsigned" in reason


async def test_an_event_altered_after_signing_is_parked_for_its_bad_signature(
    system: System, nats_client: NATS, isolation: Any, admin_db: asyncpg.Connection
) -> None:
    genuine = an_admission()
    headers = signed_headers(isolation, genuine)
    altered = genuine.model_copy(update={"stream_version": 4})
    await publish(nats_client, own_subject(isolation, altered), altered, headers)
    await never_applied(admin_db, altered)
    for schema in ("casework", "audit"):
        reason = await parked(admin_db, schema, altered.event_id)
        assert reason is not None and "bad signature" in reason, reason


async def test_a_signature_by_another_service_is_parked_as_the_wrong_producer(
    system: System, nats_client: NATS, isolation: Any, admin_db: asyncpg.Connection
) -> None:
    event = an_admission()
    # Casework's own valid key, on an intake fact: casework does not own the intake context.
    headers = signed_headers(isolation, event, producer="casework")
    await publish(nats_client, own_subject(isolation, event), event, headers)
    await never_applied(admin_db, event)
    reason = await parked(admin_db, "casework", event.event_id)
    assert reason is not None and "casework does not own the intake context" in reason


async def test_a_valid_signature_on_another_subject_is_parked(
    system: System, nats_client: NATS, isolation: Any, admin_db: asyncpg.Connection
) -> None:
    event = an_admission()
    # Intake's genuine signature over a Pontiac admission, replayed onto Oakland County's
    # subject, which casework consumes as well.
    subject = f"{isolation.subject_root}.oakland-county.intake.ReferralAdmitted"
    await publish(nats_client, subject, event, signed_headers(isolation, event))
    await never_applied(admin_db, event)
    reason = await parked(admin_db, "audit", event.event_id)
    assert reason is not None and "not on its own subject" in reason


async def ledger(system: System, path: str) -> Any:
    auditor = system.token(sub="auditor-1", role="auditor", agency="county-audit")
    async with system.client("audit", auditor) as audit:
        response = await audit.get(path)
    assert response.status_code == 200, response.text
    return response.json()


async def in_ledger(admin_db: asyncpg.Connection, event: EventEnvelope) -> bool:
    return bool(
        await admin_db.fetchval("SELECT 1 FROM audit.ledger WHERE event_id = $1", event.event_id)
    )


async def test_the_ledger_proves_who_wrote_each_entry_across_a_key_rotation(
    system: System, nats_client: NATS, isolation: Any, admin_db: asyncpg.Connection
) -> None:
    before = an_admission()
    await republish(nats_client, isolation, before)
    intake = ServiceSettings(service_name="intake", auth_local_key_path=isolation.key_path)
    rotated = rotate_signing_key(intake)
    after = an_admission()
    await republish(nats_client, isolation, after)
    await wait_for(lambda: in_ledger(admin_db, after), timeout=60, what="the later admission")

    rows = {
        r["event_id"]: r
        for r in await admin_db.fetch(
            "SELECT event_id, producer, key_id FROM audit.ledger WHERE event_id = ANY($1)",
            [before.event_id, after.event_id],
        )
    }
    assert rows[before.event_id]["producer"] == rows[after.event_id]["producer"] == "intake"
    assert rows[after.event_id]["key_id"] == rotated.key_id != rows[before.event_id]["key_id"]

    verified = await ledger(system, "/ledger/verify")
    assert verified["intact"], verified
    assert verified["written_by"]["intake"] >= 2
    served = {k["key_id"] for k in await ledger(system, "/ledger/producer-keys")}
    assert {rows[before.event_id]["key_id"], rotated.key_id} <= served


async def test_each_service_serves_its_own_event_keys_current_first(system: System) -> None:
    for name in ("casework", "audit"):
        async with system.client(name) as service:
            response = await service.get("/event-keys")
        assert response.status_code == 200, response.text
        keys = response.json()
        current = system.services[name].runtime.signer.key_id
        assert keys[0]["key_id"] == current
        assert {k["producer"] for k in keys} == {name}


@pytest.mark.parametrize("forgery", ["unsigned", "signed by a stranger"])
async def test_an_entry_forged_into_the_ledger_table_is_named_by_verify(
    system: System, nats_client: NATS, isolation: Any, admin_db: asyncpg.Connection, forgery: str
) -> None:
    genuine = an_admission()
    await republish(nats_client, isolation, genuine)
    await wait_for(lambda: in_ledger(admin_db, genuine), timeout=60, what="a genuine entry")

    # The superuser appends a well-chained entry nobody published: triggers allow INSERT.
    forged = an_admission()
    async with admin_db.transaction():
        await admin_db.execute("SELECT pg_advisory_xact_lock(hashtext('audit-ledger-writer'))")
        head = await admin_db.fetchrow("SELECT seq, hash FROM audit.ledger ORDER BY seq DESC")
        seq = head["seq"] + 1
        subject = own_subject(isolation, forged)
        body = canonical(ledger_entry(seq, subject, json.loads(forged.model_dump_json())))
        key_id = signature = None
        if forgery != "unsigned":
            stranger = signed_headers(isolation, forged, producer="intake")
            key_id = "intake-0000000000000000"
            signature = base64.b64encode(base64.b64decode(stranger[SIGNATURE_HEADER])).decode()
            assert stranger[KEY_ID_HEADER] != key_id
        await admin_db.execute(
            """INSERT INTO audit.ledger (seq, event_id, subject, entry, previous_hash, hash,
                                         producer, key_id, signature)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
            seq,
            forged.event_id,
            subject,
            body.decode(),
            head["hash"],
            chain_hash(head["hash"], body),
            None if forgery == "unsigned" else "intake",
            key_id,
            signature,
        )

    verified = await ledger(system, "/ledger/verify")
    assert not verified["intact"]
    assert verified["first_bad_seq"] == seq
    if forgery == "unsigned":
        assert verified["fault"] == "unsigned", verified
    else:
        assert verified["fault"] == "bad_signature", verified
        assert "not in the keyring" in verified["explanation"]

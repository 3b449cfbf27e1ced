"""Verify hashes the bytes the ledger stores and proves them canonical by the producer's
signature over them: whatever an attacker does to those bytes is still found at its entry, by
`verify` against the database and by `offramp-audit check` of an export."""

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from audit import proofs
from audit.adapters import ledger_store
from audit.adapters.checkpoint_store import Checkpointer
from audit.adapters.ledger_writer import proven_producer
from audit.domain.chain import (
    GENESIS_HASH,
    StoredEntry,
    canonical,
    canonical_entry,
    chain_hash,
    event_bytes_in,
    ledger_entry,
)
from audit.domain.checkpoint import CheckpointPolicy, key_id
from audit.domain.verification import LedgerReport, LedgerWalk
from audit.entrypoints.ledger_cli import check_file
from offramp_contracts import Actor, EventEnvelope
from offramp_contracts.events.casework import ClientEngaged
from servicekit.events import new_event
from servicekit.eventstore import EventStore
from servicekit.outbox import notify_channel
from servicekit.provenance import ProvenanceError, check_provenance
from tests.producers import PRODUCER_KEYS, SIGNERS, arrival

SUBJECT = "lead.pontiac.casework.ClientEngaged"
KEY = Ed25519PrivateKey.generate()
TRUSTED = {key_id(KEY.public_key()): KEY.public_key()}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


def an_event(n: int) -> EventEnvelope:
    return new_event(
        ClientEngaged(case_id=uuid4(), contact_id=uuid4()),
        stream_id=f"case-{n}",
        stream_version=1,
        jurisdiction="pontiac",
        actor=Actor(subject="cm-1", agency="alliance", role="case_manager"),
        correlation_id=uuid4(),
        causation_id=None,
    )


def signed_ledger(n: int) -> list[StoredEntry]:
    """Entries as the writer stores them: built around each event's canonical bytes, signed."""
    entries, previous = [], GENESIS_HASH
    for seq in range(1, n + 1):
        came = arrival(SUBJECT, an_event(seq))
        body = ledger_store.entry_bytes(seq, replace(came, canonical_event=None))
        assert came.provenance is not None
        digest = chain_hash(previous, body)
        p = came.provenance
        entries.append(
            StoredEntry(seq, body.decode(), previous, digest, p.producer, p.key_id, p.signature)
        )
        previous = digest
    return entries


def rehashed_from(entries: list[StoredEntry], victim: int, text: str) -> list[StoredEntry]:
    """`entries` with entry `victim` (0-based) replaced by `text`, and its hash and every hash
    after it recomputed: the careful forger the chain alone cannot catch without checkpoints."""
    out = entries[:victim]
    previous = out[-1].hash if out else GENESIS_HASH
    for n, stored in enumerate(entries[victim:]):
        body = (text if n == 0 else stored.entry).encode()
        digest = chain_hash(previous, body)
        out.append(replace(stored, entry=body.decode(), previous_hash=previous, hash=digest))
        previous = digest
    return out


def walk(entries: list[StoredEntry], *, keys: bool = True) -> LedgerReport:
    walker = LedgerWalk([], TRUSTED, PRODUCER_KEYS if keys else None)
    walker.feed(entries)
    return walker.report()


@given(seq=st.integers(1, 2**53 - 1), subject=st.text(), event=json_values)
def test_the_entry_built_around_the_event_bytes_is_the_canonical_entry(
    seq: int, subject: str, event: Any
) -> None:
    whole = canonical(ledger_entry(seq, subject, event))
    assert canonical_entry(seq, subject, canonical(event)) == whole
    assert event_bytes_in(whole, seq, subject) == canonical(event)


def test_an_entry_laid_out_otherwise_holds_no_event_bytes() -> None:
    body = canonical(ledger_entry(3, SUBJECT, {"n": 1}))
    assert event_bytes_in(body, 4, SUBJECT) is None
    assert event_bytes_in(body, 3, "lead.pontiac.casework.Other") is None
    assert event_bytes_in(b" " + body, 3, SUBJECT) is None


def test_a_ledger_of_signed_entries_verifies_with_and_without_the_keyring() -> None:
    entries = signed_ledger(5)
    assert walk(entries).intact and walk(entries).written_by == {"casework": 5}
    assert walk(entries, keys=False).intact


@given(victim=st.integers(0, 5), keys=st.booleans())
def test_a_changed_stored_byte_that_changes_no_json_is_found_at_its_entry(
    victim: int, keys: bool
) -> None:
    entries = signed_ledger(6)
    entries[victim] = replace(
        entries[victim], entry=entries[victim].entry.replace('"seq":', ' "seq":')
    )
    report = walk(entries, keys=keys)
    assert (report.intact, report.first_bad_seq, report.fault) == (False, victim + 1, "changed")


@given(victim=st.integers(0, 5), keys=st.booleans())
def test_an_entry_rewritten_in_another_form_of_the_same_json_and_rehashed_is_found(
    victim: int, keys: bool
) -> None:
    """Same content, same signature, every later hash recomputed: the stored bytes are no
    longer what the producer signed, nor canonical, so they are not what was hashed."""
    entries = signed_ledger(6)
    content = json.loads(entries[victim].entry)
    forged = rehashed_from(entries, victim, json.dumps(content, indent=1))
    report = walk(forged, keys=keys)
    assert (report.intact, report.first_bad_seq, report.fault) == (False, victim + 1, "changed")
    assert "altered" in (report.explanation or "")


@given(victim=st.integers(0, 5))
def test_a_rehashed_entry_whose_event_changed_no_longer_carries_its_signature(
    victim: int,
) -> None:
    entries = signed_ledger(6)
    text = entries[victim].entry.replace('"stream_version":1', '"stream_version":2')
    report = walk(rehashed_from(entries, victim, text))
    assert (report.intact, report.first_bad_seq, report.fault) == (
        False,
        victim + 1,
        "bad_signature",
    )


@given(victim=st.integers(0, 5), member=st.sampled_from(["event", "seq", "subject"]))
def test_a_rehashed_entry_with_a_member_renamed_is_found_at_its_entry(
    victim: int, member: str
) -> None:
    """The entry's own member renamed (the last of that name: the event holds a "subject"
    too), the entry rehashed: it is named at its entry, not a crash of the walk."""
    entries = signed_ledger(6)
    before, name, after = entries[victim].entry.rpartition(f'"{member}":')
    report = walk(rehashed_from(entries, victim, f'{before}"x{name[1:]}{after}'))
    assert (report.intact, report.first_bad_seq) == (False, victim + 1)
    assert report.fault == ("reordered" if member == "seq" else "changed")


@given(keys=st.booleans(), text=st.sampled_from(["[]", "1", '"entry"', "null"]))
def test_a_rehashed_entry_that_is_not_an_object_is_found_as_changed(keys: bool, text: str) -> None:
    report = walk(rehashed_from(signed_ledger(3), 1, text), keys=keys)
    assert (report.intact, report.first_bad_seq, report.fault) == (False, 2, "changed")


async def signed_ledger_in(pool: asyncpg.Pool, n: int) -> None:
    """`n` signed events appended as the writer appends them (each event canonicalised once on
    receipt), and a checkpoint over them all."""
    checkpointer = Checkpointer(
        key=KEY,
        policy=CheckpointPolicy(every_entries=1, every_seconds=3600),
        origin="test-ledger",
        jurisdiction="county",
        store=EventStore(subject_root="lead", notify_channel=notify_channel("audit")),
    )
    arrivals = []
    for seq in range(1, n + 1):
        came = arrival(SUBJECT, an_event(seq))
        arrivals.append(replace(came, canonical_event=ledger_store.canonical_event(came.event)))
    async with pool.acquire() as conn:
        async with conn.transaction():
            await ledger_store.append_batch(conn, arrivals)
        await checkpointer.sign_if_due(conn, await ledger_store.read_head(conn))


async def test_stored_bytes_changed_behind_the_triggers_fail_verify_and_the_offline_check(
    owner_pool: asyncpg.Pool, role_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    await signed_ledger_in(role_pool, 6)
    assert (await proofs.verify(role_pool, [KEY.public_key()], PRODUCER_KEYS)).intact
    async with owner_pool.acquire() as conn, conn.transaction():
        # Only a superuser can switch the triggers off: the tamperer verify is for. The JSON
        # means the same after it; the bytes that were hashed and signed do not.
        await conn.execute("SET LOCAL session_replication_role = replica")
        await conn.execute(
            """UPDATE ledger SET entry = replace(entry, '"seq":', ' "seq":') WHERE seq = 4"""
        )
    report = await proofs.verify(role_pool, [KEY.public_key()], PRODUCER_KEYS)
    assert (report.intact, report.first_bad_seq, report.fault) == (False, 4, "changed")

    bundle = await proofs.export(
        role_pool, KEY.public_key(), PRODUCER_KEYS, first=2, last=5, checkpoint=None
    )
    exported = tmp_path / "export.json"
    exported.write_text(json.dumps(bundle))
    assert check_file(exported, None) == 1


@pytest.mark.parametrize(
    ("rewrite", "why"),
    [
        (lambda text: json.dumps(json.loads(text), indent=1), "is not in RFC 8785 canonical form"),
        (lambda text: "[]", "is not a ledger entry (not a JSON object)"),
        (lambda text: text.replace('{"event":', '{"xevent":', 1), "was altered: it is not a"),
    ],
)
async def test_an_export_rewritten_and_rehashed_fails_the_offline_check(
    role_pool: asyncpg.Pool,
    tmp_path: Path,
    capsys: Any,
    rewrite: Callable[[str], str],
    why: str,
) -> None:
    await signed_ledger_in(role_pool, 4)
    bundle = await proofs.export(
        role_pool, KEY.public_key(), PRODUCER_KEYS, first=1, last=4, checkpoint=None
    )
    first = bundle["entries"][0]
    first["entry"] = rewrite(first["entry"])
    first["hash"] = chain_hash(first["previous_hash"], first["entry"].encode())
    bundle["entries"][1]["previous_hash"] = first["hash"]
    exported = tmp_path / "export.json"
    exported.write_text(json.dumps(bundle))
    assert check_file(exported, None) == 1
    assert f"entry 1 {why}" in capsys.readouterr().out


def test_the_writer_proves_the_producer_over_the_bytes_it_made_as_a_consumer_would() -> None:
    event = an_event(1)
    headers = SIGNERS["casework"].headers(event)
    made = ledger_store.canonical_event(event)
    assert proven_producer(PRODUCER_KEYS, SUBJECT, event, headers, made) == check_provenance(
        PRODUCER_KEYS, SUBJECT, event, headers
    )


@pytest.mark.parametrize(
    ("subject", "signer", "why"),
    [
        (SUBJECT, "intake", "wrong producer"),
        ("lead.elsewhere.casework.ClientEngaged", "casework", "travelled on"),
        (SUBJECT, None, "unsigned"),
    ],
)
def test_the_writer_refuses_what_a_consumer_refuses_for_the_same_reason(
    subject: str, signer: str | None, why: str
) -> None:
    event = an_event(1)
    headers = SIGNERS[signer].headers(event) if signer else {}
    made = ledger_store.canonical_event(event)
    with pytest.raises(ProvenanceError, match=why) as refused:
        proven_producer(PRODUCER_KEYS, subject, event, headers, made)
    with pytest.raises(ProvenanceError) as consumer:
        check_provenance(PRODUCER_KEYS, subject, event, headers)
    assert str(refused.value) == str(consumer.value)


def test_a_signature_over_other_bytes_is_refused_even_if_the_headers_are_real() -> None:
    event, other = an_event(1), an_event(2)
    headers = SIGNERS["casework"].headers(other)
    with pytest.raises(ProvenanceError, match="bad signature"):
        proven_producer(PRODUCER_KEYS, SUBJECT, event, headers, ledger_store.canonical_event(event))

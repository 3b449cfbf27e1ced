"""Verifying the chain and its signed checkpoints together: every kind of tampering is found,
and named at the right entry or checkpoint."""

import json
from dataclasses import replace

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from audit.domain.chain import GENESIS_HASH, StoredEntry, canonical, chain_hash, ledger_entry
from audit.domain.checkpoint import (
    CheckpointBody,
    CheckpointPolicy,
    SignedCheckpoint,
    checkpoint_due,
    key_id,
    sign_checkpoint,
)
from audit.domain.merkle import TreeFrontier, leaf_hash
from audit.domain.verification import LedgerReport, LedgerWalk

KEY = Ed25519PrivateKey.generate()
TRUSTED = {key_id(KEY.public_key()): KEY.public_key()}
SUBJECT = "lead.pontiac.casework.ClientEngaged"


def entry_body(seq: int, marker: str = "") -> bytes:
    return canonical(ledger_entry(seq, SUBJECT, {"n": seq, "marker": marker}))


def rechain(bodies: list[tuple[int, bytes]]) -> list[StoredEntry]:
    """Stored rows for these (seq, body) pairs, every hash computed honestly in order."""
    entries, previous = [], GENESIS_HASH
    for seq, body in bodies:
        digest = chain_hash(previous, body)
        entries.append(StoredEntry(seq, body.decode(), previous, digest))
        previous = digest
    return entries


def checkpoints_every(
    entries: list[StoredEntry], every: int, key: Ed25519PrivateKey = KEY
) -> list[SignedCheckpoint]:
    frontier = TreeFrontier()
    signed: list[SignedCheckpoint] = []
    for stored in entries:
        frontier.append(leaf_hash(stored.entry.encode()))
        if frontier.size % every == 0:
            body = CheckpointBody(
                origin="test",
                number=len(signed) + 1,
                tree_size=frontier.size,
                root_hash=frontier.root().hex(),
                chain_head=stored.hash,
                signed_at="2026-01-01T00:00:00Z",
                key_id=key_id(key.public_key()),
            )
            signed.append(sign_checkpoint(body, key))
    return signed


def walk(entries: list[StoredEntry], checkpoints: list[SignedCheckpoint]) -> LedgerReport:
    verifier = LedgerWalk(checkpoints, TRUSTED)
    verifier.feed(entries[:3])  # in batches, as the database adapter feeds it
    verifier.feed(entries[3:])
    return verifier.report()


def ledger(n: int) -> list[StoredEntry]:
    return rechain([(seq, entry_body(seq)) for seq in range(1, n + 1)])


sizes = st.integers(4, 40)
intervals = st.integers(1, 7)


@given(n=sizes, every=intervals)
def test_an_untouched_ledger_is_intact_up_to_its_last_entry_and_checkpoint(
    n: int, every: int
) -> None:
    entries = ledger(n)
    checkpoints = checkpoints_every(entries, every)
    report = walk(entries, checkpoints)
    assert report.intact, report
    assert (report.entries_checked, report.checkpoints_checked) == (n, n // every)
    assert report.summary == f"intact up to entry {n}, checkpoint {n // every}"


@given(n=sizes, every=intervals, data=st.data())
def test_any_changed_byte_is_found_at_its_entry(n: int, every: int, data: st.DataObject) -> None:
    entries = ledger(n)
    checkpoints = checkpoints_every(entries, every)
    victim = data.draw(st.integers(0, n - 1))
    raw = bytearray(entries[victim].entry.encode())
    position = data.draw(st.integers(0, len(raw) - 1))
    # Another printable character, never the same one.
    raw[position] = 32 + (raw[position] - 32 + data.draw(st.integers(1, 94))) % 95
    entries[victim] = replace(entries[victim], entry=raw.decode())
    report = walk(entries, checkpoints)
    assert not report.intact
    assert report.first_bad_seq == victim + 1
    assert report.fault in {"changed", "reordered"}  # reordered if the byte was in its seq


@given(n=sizes, every=intervals, data=st.data())
def test_a_deleted_entry_is_reported_missing(n: int, every: int, data: st.DataObject) -> None:
    entries = ledger(n)
    checkpoints = checkpoints_every(entries, every)
    victim = data.draw(st.integers(0, n - 2))
    del entries[victim]
    report = walk(entries, checkpoints)
    assert (report.intact, report.first_bad_seq, report.fault) == (False, victim + 1, "missing")


@given(n=sizes, every=intervals, data=st.data())
def test_an_inserted_entry_is_found_where_the_sequence_repeats(
    n: int, every: int, data: st.DataObject
) -> None:
    """A forged entry chained onto its predecessor looks genuine to the chain until the entry it
    displaced claims the same position, unless a checkpoint signed that position first."""
    entries = ledger(n)
    checkpoints = checkpoints_every(entries, every)
    at = data.draw(st.integers(1, n - 1))  # 1-based seq the forgery takes
    forged_body = entry_body(at, marker="forged")
    previous = entries[at - 2].hash if at > 1 else GENESIS_HASH
    forged = StoredEntry(at, forged_body.decode(), previous, chain_hash(previous, forged_body))
    entries.insert(at - 1, forged)
    report = walk(entries, checkpoints)
    signed_there = [c.body for c in checkpoints if c.body.tree_size == at]
    if signed_there:
        assert (report.intact, report.fault) == (False, "changed")
        assert report.bad_checkpoint == signed_there[0].number
        assert report.first_bad_seq is not None and report.first_bad_seq <= at
    else:
        assert (report.intact, report.first_bad_seq, report.fault) == (False, at + 1, "reordered")


@given(n=sizes, every=intervals, data=st.data())
def test_reordered_entries_are_found_at_the_first_displaced_one(
    n: int, every: int, data: st.DataObject
) -> None:
    entries = ledger(n)
    checkpoints = checkpoints_every(entries, every)
    i = data.draw(st.integers(0, n - 2))
    entries[i], entries[i + 1] = entries[i + 1], entries[i]
    report = walk(entries, checkpoints)
    assert not report.intact
    assert report.first_bad_seq == i + 1


@given(n=sizes, every=intervals, data=st.data())
def test_a_truncated_tail_is_found_by_the_checkpoint_that_signed_it(
    n: int, every: int, data: st.DataObject
) -> None:
    entries = ledger(n)
    checkpoints = checkpoints_every(entries, every)
    keep = data.draw(st.integers(0, n - 1))
    report = walk(entries[:keep], checkpoints)
    signed_beyond = [c for c in checkpoints if c.body.tree_size > keep]
    if not signed_beyond:
        # Nothing signed past the cut: the chain alone cannot tell. This is why partners keep
        # checkpoints and why checkpoints are also due after a time, not only a count.
        assert report.intact and report.entries_checked == keep
        return
    assert (report.intact, report.first_bad_seq, report.fault) == (False, keep + 1, "missing")
    assert report.bad_checkpoint == signed_beyond[0].body.number


@given(n=sizes, every=intervals, data=st.data())
def test_a_rewrite_that_recomputed_every_hash_is_caught_by_the_next_checkpoint(
    n: int, every: int, data: st.DataObject
) -> None:
    honest = ledger(n)
    checkpoints = checkpoints_every(honest, every)
    victim = data.draw(st.integers(1, n))
    bodies = [(e.seq, e.entry.encode()) for e in honest]
    bodies[victim - 1] = (victim, entry_body(victim, marker="rewritten"))
    report = walk(rechain(bodies), checkpoints)
    covering = [c for c in checkpoints if c.body.tree_size >= victim]
    if not covering:
        assert report.intact  # not yet signed: the next checkpoint will sign the rewrite
        return
    assert not report.intact and report.fault == "changed"
    assert report.bad_checkpoint == covering[0].body.number
    assert report.first_bad_seq is not None
    assert report.first_bad_seq <= victim <= covering[0].body.tree_size


@given(n=sizes, every=intervals, data=st.data())
def test_an_altered_or_foreign_checkpoint_has_a_bad_signature(
    n: int, every: int, data: st.DataObject
) -> None:
    entries = ledger(n)
    checkpoints = checkpoints_every(entries, every)
    if not checkpoints:
        return
    k = data.draw(st.integers(0, len(checkpoints) - 1))
    if data.draw(st.booleans()):
        altered = replace(checkpoints[k].body, signed_at="2030-01-01T00:00:00Z")
        checkpoints[k] = SignedCheckpoint(altered, checkpoints[k].signature)
    else:
        checkpoints[k] = checkpoints_every(entries, every, Ed25519PrivateKey.generate())[k]
    report = walk(entries, checkpoints)
    assert (report.intact, report.bad_checkpoint, report.fault) == (False, k + 1, "bad_signature")


def test_a_missing_checkpoint_number_is_reported() -> None:
    entries = ledger(9)
    checkpoints = checkpoints_every(entries, 3)
    del checkpoints[1]
    report = walk(entries, checkpoints)
    assert (report.intact, report.bad_checkpoint, report.fault) == (False, 2, "missing")


def test_a_checkpoint_round_trips_through_json() -> None:
    checkpoint = checkpoints_every(ledger(4), 2)[1]
    assert SignedCheckpoint.from_json(json.loads(json.dumps(checkpoint.to_json()))) == checkpoint


def test_a_checkpoint_is_due_after_n_events_or_t_seconds_whichever_first() -> None:
    policy = CheckpointPolicy(every_entries=10, every_seconds=60)
    assert not checkpoint_due(policy, unsigned_events=0, oldest_unsigned_age_seconds=None)
    assert not checkpoint_due(policy, unsigned_events=9, oldest_unsigned_age_seconds=59)
    assert checkpoint_due(policy, unsigned_events=10, oldest_unsigned_age_seconds=1)
    assert checkpoint_due(policy, unsigned_events=1, oldest_unsigned_age_seconds=60)

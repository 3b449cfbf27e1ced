"""The hash chain: any change, loss, insertion or reordering is found at the right entry."""

import json
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from audit.domain.chain import (
    GENESIS_HASH,
    ChainVerifier,
    StoredEntry,
    canonical,
    chain_hash,
    ledger_entry,
)


def build_chain(n: int) -> list[StoredEntry]:
    entries: list[StoredEntry] = []
    previous = GENESIS_HASH
    for seq in range(1, n + 1):
        body = canonical(ledger_entry(seq, "lead.pontiac.intake.ReferralReceived", {"n": seq}))
        digest = chain_hash(previous, body)
        entries.append(StoredEntry(seq, body.decode(), previous, digest))
        previous = digest
    return entries


def verify(entries: list[StoredEntry]) -> ChainVerifier:
    verifier = ChainVerifier()
    verifier.feed(entries)
    return verifier


def test_an_untouched_chain_is_intact_up_to_its_last_entry() -> None:
    result = verify(build_chain(5)).result()
    assert result.intact and result.entries_checked == 5


def test_the_hash_is_sha256_of_the_previous_hash_and_the_canonical_entry() -> None:
    import hashlib

    body = canonical({"seq": 1, "b": 2, "a": "é"})
    assert body == '{"a":"é","b":2,"seq":1}'.encode()
    assert chain_hash(GENESIS_HASH, body) == hashlib.sha256(bytes(32) + body).hexdigest()


@given(n=st.integers(2, 30), data=st.data())
def test_a_changed_entry_is_reported_where_it_was_changed(n: int, data: st.DataObject) -> None:
    chain = build_chain(n)
    victim = data.draw(st.integers(0, n - 1))
    content = json.loads(chain[victim].entry)
    content["event"]["n"] = -1
    chain[victim] = replace(chain[victim], entry=json.dumps(content))
    result = verify(chain).result()
    assert not result.intact
    assert result.first_bad_seq == victim + 1
    assert result.fault == "changed"


@given(n=st.integers(3, 30), data=st.data())
def test_a_deleted_entry_is_reported_as_missing(n: int, data: st.DataObject) -> None:
    chain = build_chain(n)
    victim = data.draw(st.integers(0, n - 2))
    del chain[victim]
    result = verify(chain).result()
    assert (result.intact, result.first_bad_seq, result.fault) == (False, victim + 1, "missing")


@given(n=st.integers(3, 30), data=st.data())
def test_swapped_entries_are_reported_at_the_first_displaced_one(
    n: int, data: st.DataObject
) -> None:
    chain = build_chain(n)
    i = data.draw(st.integers(0, n - 2))
    chain[i], chain[i + 1] = chain[i + 1], chain[i]
    result = verify(chain).result()
    assert not result.intact
    assert result.first_bad_seq == i + 1


@given(n=st.integers(2, 30), data=st.data())
def test_a_rehashed_forgery_breaks_the_link_to_the_next_entry(n: int, data: st.DataObject) -> None:
    """An attacker who rewrites an entry and recomputes its hash still breaks the chain."""
    chain = build_chain(n)
    victim = data.draw(st.integers(0, n - 2))
    forged_body = canonical(ledger_entry(victim + 1, "forged", {"n": 0}))
    chain[victim] = replace(
        chain[victim],
        entry=forged_body.decode(),
        hash=chain_hash(chain[victim].previous_hash, forged_body),
    )
    result = verify(chain).result()
    assert not result.intact
    assert result.first_bad_seq == victim + 2
    assert result.fault == "broken_link"

"""The hash chain: `hash = SHA-256(previous hash ‖ RFC 8785 canonical JSON of the entry)`.

The ledger stores each entry as exactly the bytes that were hashed (its `entry` column has held
them since the first migration), so checking an entry hashes what is stored: any byte changed
shows, and nothing is canonicalised again. That the stored bytes are canonical JSON is proven
apart, by the producer's signature over the event they hold (`audit.domain.verification`), or,
for an entry that carries none, by canonicalising it as before.
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import rfc8785

GENESIS_HASH = "0" * 64


def canonical(entry: dict[str, Any]) -> bytes:
    return rfc8785.dumps(entry)


def chain_hash(previous_hash: str, canonical_entry: bytes) -> str:
    return hashlib.sha256(bytes.fromhex(previous_hash) + canonical_entry).hexdigest()


def ledger_entry(seq: int, subject: str, event: dict[str, Any]) -> dict[str, Any]:
    """What is hashed: the position, the subject it travelled on and the event as published."""
    return {"seq": seq, "subject": subject, "event": event}


# RFC 8785 orders members by their names ("event" < "seq" < "subject") and writes a nested
# value exactly as it would write it alone, so a canonical entry is these pieces around the
# canonical event, byte for byte.
_EVENT_OPENS = b'{"event":'


def _entry_closes(seq: int, subject: Any) -> bytes:
    return b',"seq":' + rfc8785.dumps(seq) + b',"subject":' + rfc8785.dumps(subject) + b"}"


def canonical_entry(seq: int, subject: str, canonical_event: bytes) -> bytes:
    """`canonical(ledger_entry(seq, subject, event))` from the event's canonical bytes, made
    once: the writer canonicalises each event once, before its position is known."""
    return _EVENT_OPENS + canonical_event + _entry_closes(seq, subject)


def event_bytes_in(entry: bytes, seq: int, subject: Any) -> bytes | None:
    """The bytes a canonical entry at `seq` holds its event as; None if `entry` is not laid
    out as `canonical_entry` lays it out (then it is not canonical either)."""
    closes = _entry_closes(seq, subject)
    if not entry.startswith(_EVENT_OPENS) or not entry.endswith(closes):
        return None
    return entry[len(_EVENT_OPENS) : len(entry) - len(closes)]


@dataclass(frozen=True)
class StoredEntry:
    seq: int
    entry: str
    previous_hash: str
    hash: str
    # Who wrote it, as the event's signature proves (servicekit.provenance); outside the hash.
    producer: str | None = None
    key_id: str | None = None
    signature: str | None = None


Fault = Literal["changed", "missing", "reordered", "broken_link"]


@dataclass(frozen=True)
class Verification:
    intact: bool
    entries_checked: int
    head_hash: str
    first_bad_seq: int | None = None
    fault: Fault | None = None
    explanation: str | None = None


class ChainVerifier:
    """Walks entries in sequence order, in as many batches as needed, and stops at the first
    entry that does not follow from the one before it."""

    def __init__(self) -> None:
        self.expected_seq = 1
        self.previous_hash = GENESIS_HASH
        self.checked = 0
        self.failure: Verification | None = None

    def feed(self, entries: Iterable[StoredEntry], *, form_proven: bool = False) -> bool:
        """Returns False once a bad entry is found. `form_proven`: the caller proves that these
        entries are canonical JSON some other way (the signature over their event, checked
        next), so they are not canonicalised again here."""
        for stored in entries:
            failure = self._check(stored, form_proven)
            if failure is not None:
                self.failure = failure
                return False
            self.expected_seq += 1
            self.previous_hash = stored.hash
            self.checked += 1
        return True

    def result(self) -> Verification:
        return self.failure or Verification(True, self.checked, self.previous_hash)

    def _check(self, stored: StoredEntry, form_proven: bool) -> Verification | None:
        def bad(fault: Fault, why: str) -> Verification:
            return Verification(
                False, self.checked, self.previous_hash, self.expected_seq, fault, why
            )

        if stored.seq > self.expected_seq:
            return bad(
                "missing", f"entry {self.expected_seq} is missing (next present is {stored.seq})"
            )
        if stored.seq < self.expected_seq:
            return bad(
                "reordered", f"entry {stored.seq} appears again after {self.expected_seq - 1}"
            )
        if stored.previous_hash != self.previous_hash:
            return bad(
                "broken_link",
                f"entry {stored.seq} does not point at the hash of entry {stored.seq - 1}",
            )
        body = stored.entry.encode()
        try:
            content = json.loads(body)
            canonical_form = body if form_proven else canonical(content)
        except (ValueError, TypeError) as error:
            return bad("changed", f"entry {stored.seq} is not valid JSON: {error}")
        if not isinstance(content, dict):
            return bad("changed", f"entry {stored.seq} was altered: it is not a ledger entry")
        if content.get("seq") != stored.seq:
            return bad(
                "reordered", f"entry {stored.seq} holds the content of entry {content.get('seq')}"
            )
        if chain_hash(self.previous_hash, body) != stored.hash:
            return bad(
                "changed", f"entry {stored.seq} was altered: its content no longer matches its hash"
            )
        if canonical_form != body:
            return bad(
                "changed",
                f"entry {stored.seq} was altered: it is not the canonical JSON that was hashed",
            )
        return None

"""The hash chain: `hash = SHA-256(previous hash ‖ RFC 8785 canonical JSON of the entry)`."""

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

    def feed(self, entries: Iterable[StoredEntry]) -> bool:
        """Returns False once a bad entry is found."""
        for stored in entries:
            failure = self._check(stored)
            if failure is not None:
                self.failure = failure
                return False
            self.expected_seq += 1
            self.previous_hash = stored.hash
            self.checked += 1
        return True

    def result(self) -> Verification:
        return self.failure or Verification(True, self.checked, self.previous_hash)

    def _check(self, stored: StoredEntry) -> Verification | None:
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
        try:
            content = json.loads(stored.entry)
            recomputed = chain_hash(self.previous_hash, canonical(content))
        except (ValueError, TypeError) as error:
            return bad("changed", f"entry {stored.seq} is not valid JSON: {error}")
        if content.get("seq") != stored.seq:
            return bad(
                "reordered", f"entry {stored.seq} holds the content of entry {content.get('seq')}"
            )
        if recomputed != stored.hash:
            return bad(
                "changed", f"entry {stored.seq} was altered: its content no longer matches its hash"
            )
        return None

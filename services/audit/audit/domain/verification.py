"""Verifying the whole ledger: the hash chain entry by entry, and every signed checkpoint at the
size it signed, in one pass and constant memory.

The chain finds a changed, missing or reordered entry exactly. What the chain alone cannot find
is a rewrite that recomputed every hash after it, or a tail cut off cleanly: those are what the
checkpoints are for. A rewrite is then placed between the last checkpoint that still holds and
the first that does not, which is as precise as signed roots allow.
"""

import base64
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from audit.domain.chain import ChainVerifier, StoredEntry, event_bytes_in
from audit.domain.checkpoint import SignedCheckpoint, signature_problem
from audit.domain.merkle import TreeFrontier, leaf_hash
from offramp_contracts import EventEnvelope
from offramp_contracts.provenance import ownership_problem
from servicekit.provenance import (
    SIGNATURE_CONTEXT,
    Keys,
    ProducerKey,
    event_signature_problem,
)

Fault = Literal[
    "changed", "missing", "reordered", "broken_link", "bad_signature", "unsigned", "not_owner"
]


@dataclass(frozen=True)
class LedgerReport:
    intact: bool
    entries_checked: int
    checkpoints_checked: int
    head_hash: str
    first_bad_seq: int | None = None
    bad_checkpoint: int | None = None
    fault: Fault | None = None
    explanation: str | None = None
    # How many entries each producer's signature vouches for (empty if producers went unchecked).
    written_by: dict[str, int] = field(default_factory=dict)
    # How many entries, unsigned, predate signing (at or before the ledger's recorded cut-over).
    before_signing: int = 0

    @property
    def summary(self) -> str:
        if self.intact:
            who = ", ".join(f"{p} {n}" for p, n in sorted(self.written_by.items()))
            return (
                f"intact up to entry {self.entries_checked}, checkpoint {self.checkpoints_checked}"
                + (f"; every entry signed by its producer ({who})" if who else "")
                + (
                    f"; the first {self.before_signing} predate signing and carry no signature"
                    if self.before_signing
                    else ""
                )
            )
        where = f"entry {self.first_bad_seq}" if self.first_bad_seq else "a checkpoint"
        return f"broken at {where} ({self.fault}): {self.explanation}"


def signature_holds(key: ProducerKey, signature: str, event: bytes) -> bool:
    """Whether `signature` (base64, as carried) is `key`'s over an event whose RFC 8785 bytes
    are `event`: what a producer signs is `signed_bytes_of` the event, the signature context
    and those bytes (servicekit.provenance), so bytes made once need not be made again."""
    try:
        key.public_key.verify(base64.b64decode(signature, validate=True), SIGNATURE_CONTEXT + event)
    except (InvalidSignature, ValueError):  # binascii.Error is a ValueError
        return False
    return True


def _signed_as_stored(stored: StoredEntry, subject: object, keys: Keys) -> ProducerKey | None:
    """The key whose signature is over the very bytes this entry holds its event as, if any.
    A canonical entry holds the event's signed bytes verbatim, so nothing is canonicalised
    again, and a signature that holds proves those bytes canonical (the producer made them)."""
    if not stored.key_id or not stored.signature:
        return None
    key = keys.get(stored.key_id)
    if key is None:
        return None
    try:
        event = event_bytes_in(stored.entry.encode(), stored.seq, subject)
    except ValueError:  # a subject rfc8785 cannot write: not a canonical entry
        return None
    return key if event is not None and signature_holds(key, stored.signature, event) else None


def entry_provenance_problem(stored: StoredEntry, keys: Keys) -> tuple[Fault, str] | None:
    """None if a key of the keyring signed the event this entry holds, exactly as it holds it,
    that key's producer is the one the entry names, and it owns the entry's subject; otherwise
    the fault and why. An entry that passes is canonical JSON: the signed bytes are."""
    content = json.loads(stored.entry)
    if not (
        isinstance(content, dict)
        and isinstance(content.get("event"), dict)
        and isinstance(content.get("subject"), str)
    ):
        # The chain hashes the stored bytes without canonicalising them, so a rehashed entry
        # of another shape gets this far: named here, where a KeyError would end the walk
        # without naming any entry.
        return "changed", f"entry {stored.seq} was altered: it is not a ledger entry"
    key = _signed_as_stored(stored, content["subject"], keys)
    problem = None
    if key is None:
        # Not signed as stored: say why as a consumer would (servicekit.provenance).
        key, problem = event_signature_problem(
            content["event"], stored.key_id, stored.signature, keys
        )
        if key is not None and problem is None:
            # The producer signed this event, but not in these bytes: the entry was rewritten
            # in another form of the same JSON, so it is not what was hashed.
            return "changed", (
                f"entry {stored.seq} was altered: it does not hold its event as the RFC 8785 "
                f"bytes {key.producer} signed"
            )
    if key is None or problem is not None:
        fault: Fault = "unsigned" if not stored.signature else "bad_signature"
        return fault, f"entry {stored.seq} is {problem}"
    if key.producer != stored.producer:
        return "bad_signature", (
            f"entry {stored.seq} names {stored.producer} as its producer, but its signature "
            f"is {key.producer}'s"
        )
    try:
        event = EventEnvelope.model_validate(content["event"])
    except ValidationError as error:
        return "changed", f"entry {stored.seq} does not hold an event: {error}"
    not_owner = ownership_problem(key.producer, content["subject"], event)
    if not_owner is not None:
        return "not_owner", f"entry {stored.seq}: {not_owner}"
    return None


def predates_signing(stored: StoredEntry, cutover: int) -> bool:
    """An entry at or before the ledger's signing cut-over that carries no producer, key or
    signature at all: appended before events were signed."""
    return (
        stored.seq <= cutover
        and stored.producer is None
        and stored.key_id is None
        and stored.signature is None
    )


class LedgerWalk:
    """Feed entries in sequence order, in batches of any size; then ask for `report()`."""

    def __init__(
        self,
        checkpoints: Sequence[SignedCheckpoint],
        trusted_keys: dict[str, Ed25519PublicKey],
        producer_keys: Keys | None = None,
        *,
        unsigned_through: int = 0,
    ) -> None:
        """`producer_keys`, the keyring of the services' event keys, makes the walk prove who
        wrote each entry as well; without it only the chain and the checkpoints are checked.
        Entries up to `unsigned_through` (the ledger's signing cut-over) may carry no signature,
        since they were appended before events were signed, but only if a signed checkpoint
        covers them all: otherwise whoever can write the table could claim a later cut-over."""
        self._producer_keys = producer_keys
        self._unsigned_through = unsigned_through
        self._before_signing = 0
        self._written_by: dict[str, int] = {}
        self._chain = ChainVerifier()
        self._frontier = TreeFrontier()
        self._trusted = trusted_keys
        self._pending = sorted(checkpoints, key=lambda c: c.body.number)
        self._next = 0
        self._verified = 0
        self._verified_size = 0
        self._failure: LedgerReport | None = self._check_numbering()

    @property
    def entries_checked(self) -> int:
        return self._chain.checked

    def feed(self, entries: Iterable[StoredEntry]) -> bool:
        """Returns False once the ledger is found broken; feeding more changes nothing."""
        if self._failure is not None:
            return False
        for stored in entries:
            # An entry whose signature is checked below is proven canonical by it; the others
            # (no keyring, or appended before signing) are canonicalised as ever.
            signed = self._producer_keys is not None and stored.seq > self._unsigned_through
            if not self._chain.feed([stored], form_proven=signed):
                chain = self._chain.result()
                self._failure = self._broken(
                    chain.first_bad_seq, None, chain.fault, chain.explanation or ""
                )
                return False
            if self._producer_keys is not None and predates_signing(stored, self._unsigned_through):
                self._before_signing += 1
            elif self._producer_keys is not None and stored.seq <= self._unsigned_through:
                self._failure = self._broken(
                    stored.seq,
                    None,
                    "changed",
                    f"entry {stored.seq} is signed, yet the recorded cut-over "
                    f"({self._unsigned_through}) says signing began after it: it was altered",
                )
                return False
            elif self._producer_keys is not None:
                problem = entry_provenance_problem(stored, self._producer_keys)
                if problem is not None:
                    self._failure = self._broken(stored.seq, None, *problem)
                    return False
                producer = str(stored.producer)
                self._written_by[producer] = self._written_by.get(producer, 0) + 1
            self._frontier.append(leaf_hash(stored.entry.encode()))
            if not self._check_checkpoints_at(stored):
                return False
        return True

    def report(self) -> LedgerReport:
        if self._failure is not None:
            return self._failure
        if self._next < len(self._pending):
            cut = self._pending[self._next].body
            present = self._chain.checked
            return self._broken(
                present + 1,
                cut.number,
                "missing",
                f"checkpoint {cut.number} signed a ledger of {cut.tree_size} entries but only "
                f"{present} are present: entries {present + 1} to {cut.tree_size} were removed",
            )
        if self._before_signing and self._verified_size < self._unsigned_through:
            return self._broken(
                self._verified_size + 1,
                None,
                "unsigned",
                f"entries up to {self._unsigned_through} are recorded as older than signing, "
                f"but no signed checkpoint covers entries {self._verified_size + 1} to "
                f"{self._unsigned_through}: their lack of a signature is not proven to be old",
            )
        return LedgerReport(
            True,
            self._chain.checked,
            self._verified,
            self._chain.previous_hash,
            written_by=dict(self._written_by),
            before_signing=self._before_signing,
        )

    def _check_numbering(self) -> LedgerReport | None:
        previous_size = 0
        for expected, checkpoint in enumerate(self._pending, start=1):
            body = checkpoint.body
            if body.number != expected:
                return self._broken(None, expected, "missing", f"checkpoint {expected} is missing")
            if body.tree_size < 1:
                return self._broken(
                    None, body.number, "changed", f"checkpoint {body.number} signs no entries"
                )
            if body.tree_size < previous_size:
                return self._broken(
                    None,
                    body.number,
                    "reordered",
                    f"checkpoint {body.number} signs {body.tree_size} entries, fewer than the "
                    f"{previous_size} of the checkpoint before it",
                )
            previous_size = body.tree_size
        return None

    def _check_checkpoints_at(self, stored: StoredEntry) -> bool:
        while self._next < len(self._pending):
            body = self._pending[self._next].body
            if body.tree_size != self._frontier.size:
                return True
            problem = signature_problem(self._pending[self._next], self._trusted)
            if problem is not None:
                self._failure = self._broken(None, body.number, "bad_signature", problem)
                return False
            if body.root_hash != self._frontier.root().hex() or body.chain_head != stored.hash:
                first = self._verified_size + 1
                self._failure = self._broken(
                    first,
                    body.number,
                    "changed",
                    f"entries {first} to {body.tree_size} no longer match what checkpoint "
                    f"{body.number} signed: one of them was rewritten and every hash after it "
                    "recomputed",
                )
                return False
            self._verified = body.number
            self._verified_size = body.tree_size
            self._next += 1
        return True

    def _broken(
        self, seq: int | None, checkpoint: int | None, fault: Fault | None, why: str
    ) -> LedgerReport:
        return LedgerReport(
            intact=False,
            entries_checked=self._chain.checked,
            checkpoints_checked=self._verified,
            head_hash=self._chain.previous_hash,
            first_bad_seq=seq,
            bad_checkpoint=checkpoint,
            fault=fault,
            explanation=why,
        )

"""The ledger's use cases, as auditors and partners' witnesses ask them over HTTP and on the
command line: verify the whole ledger, list entries and checkpoints, prove and export, replay a
case's history, and take a witness's cosignature.

Each question is a frozen query (or command) and one named handler of `LedgerQueries`. A
handler refuses with the ledger's typed refusals (`audit.domain.refusals`), which servicekit
answers as problem+json; the entrypoints only parse, call and map the answer.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit import cosigning, proofs
from audit.adapters.gauges import LedgerGauges
from audit.adapters.ledger_reads import LedgerReads, ListedEntry
from audit.adapters.ledger_store import Progress
from audit.adapters.signing_key import SigningKeyMissing, public_key_pem
from audit.cosigning import Witnessing
from audit.domain.checkpoint import SignedCheckpoint, key_id, raw_public_key
from audit.domain.note import NoteSigner
from audit.domain.refusals import NotFound
from audit.domain.timeline import CaseFold, LedgerEvent, state_as_of
from audit.domain.verification import LedgerReport
from audit.domain.witness import Cosignature
from audit.settings import AuditSettings
from servicekit.provenance import Keys

# Queries and commands -------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyLedger:
    """Walk the chain and every checkpoint. Trusted keys: the ledger's own unless given;
    producer keys: the keyring the ledger was given unless given."""

    trusted_keys: tuple[Ed25519PublicKey, ...] = ()
    producer_keys: Keys | None = None
    # Also find the latest checkpoint the witnesses' quorum vouches for (needs the ledger's
    # notes, so its key; the command line's report says nothing of witnesses).
    witnessed: bool = True


@dataclass(frozen=True)
class ListEntries:
    after_seq: int = 0
    limit: int = 100


@dataclass(frozen=True)
class ShowCheckpoint:
    number: int


@dataclass(frozen=True)
class ShowCheckpointNote:
    number: int


@dataclass(frozen=True)
class ProveInclusion:
    seq: int
    checkpoint: int | None = None


@dataclass(frozen=True)
class ProveConsistency:
    first: int
    second: int | None = None


@dataclass(frozen=True)
class ExportRange:
    first: int
    last: int
    checkpoint: int | None = None


@dataclass(frozen=True)
class CaseHistory:
    case_id: UUID


@dataclass(frozen=True)
class ReferralHistory:
    referral_id: UUID


@dataclass(frozen=True)
class CaseAsOf:
    case_id: UUID
    at: datetime


@dataclass(frozen=True)
class AddCosignature:
    checkpoint: int
    line: str


@dataclass(frozen=True)
class ShowWitnessing:
    checkpoint: int


# Answers --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verified:
    report: LedgerReport
    # How many of the trusted witnesses must cosign a checkpoint, and the latest checkpoint
    # that carries that many valid cosignatures; None: none yet (or not asked).
    witness_quorum: int
    witnessed_through: int | None


@dataclass(frozen=True)
class PublishedKey:
    """The key every checkpoint is signed with, also as a C2SP signed-note verifier key."""

    origin: str
    key_id: str
    public_key_hex: str
    public_key_pem: str
    note_origin: str
    note_verifier_key: str


@dataclass(frozen=True)
class Exported:
    bundle: dict[str, Any]
    # What to call the file: the range and the checkpoint it is proven against.
    file_name: str


@dataclass(frozen=True)
class KnownAsOf:
    events: list[LedgerEvent]
    state: Any
    # Why there is no state, when the ledger has no case lifecycle to fold with.
    state_note: str | None


# Handlers -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerQueries:
    settings: AuditSettings
    # Sessions in the ledger role, for proofs and verification.
    pool: asyncpg.Pool
    reads: LedgerReads
    # The services' event keys: who may have written each entry.
    producer_keys: Keys
    # The checkpoint signing key; None on the command line when only public keys are given
    # (then only a verification against those keys can be asked).
    signing_key: Ed25519PrivateKey | None
    # The case lifecycle's fold; None answers as-of queries with the events known but no state.
    case_fold: CaseFold | None = None
    # The ledger's series on /metrics; a verification reports its outcome there.
    gauges: LedgerGauges | None = None

    async def verify(self, query: VerifyLedger, progress: Progress | None = None) -> Verified:
        trusted = list(query.trusted_keys) or [self._key().public_key()]
        producers = query.producer_keys if query.producer_keys is not None else self.producer_keys
        report = await proofs.verify(self.pool, trusted, producers, progress=progress)
        if self.gauges is not None:
            self.gauges.verified(report.intact)
        witnesses = cosigning.witnesses_from(self.settings)
        witnessed = (
            await cosigning.witnessed_through(self.pool, self._notes(), witnesses)
            if query.witnessed and witnesses.quorum
            else None
        )
        return Verified(report, witnesses.quorum, witnessed)

    async def entries(self, query: ListEntries) -> list[ListedEntry]:
        return await self.reads.entries(query.after_seq, query.limit)

    def public_key(self) -> PublishedKey:
        key = self._key()
        return PublishedKey(
            origin=self.settings.ledger_origin,
            key_id=key_id(key.public_key()),
            public_key_hex=raw_public_key(key.public_key()).hex(),
            public_key_pem=public_key_pem(key),
            note_origin=self.settings.note_origin(),
            note_verifier_key=self._notes().verifier_key(),
        )

    def producer_key_set(self) -> list[dict[str, str]]:
        """Retired keys included: they vouch for the entries written while they were current."""
        return [key.to_json() for key in self.producer_keys.keys()]

    async def checkpoints(self) -> list[SignedCheckpoint]:
        return await self.reads.checkpoints()

    async def checkpoint(self, query: ShowCheckpoint) -> SignedCheckpoint:
        found = await self.reads.checkpoint(query.number)
        if found is None:
            raise NotFound(f"no checkpoint {query.number}")
        return found

    async def checkpoint_note(self, query: ShowCheckpointNote) -> str:
        """The checkpoint as a C2SP signed note, the witnesses' cosignature lines after the
        ledger's own."""
        return await cosigning.cosigned_note(self.pool, self._notes(), query.number)

    async def inclusion(self, query: ProveInclusion) -> dict[str, Any]:
        return await proofs.inclusion(
            self.pool,
            self._key().public_key(),
            self.producer_keys,
            seq=query.seq,
            checkpoint=query.checkpoint,
            notes=self._notes(),
        )

    async def consistency(self, query: ProveConsistency) -> dict[str, Any]:
        return await proofs.consistency(
            self.pool, self._key().public_key(), first=query.first, second=query.second
        )

    async def export(self, query: ExportRange) -> Exported:
        bundle = await proofs.export(
            self.pool,
            self._key().public_key(),
            self.producer_keys,
            first=query.first,
            last=query.last,
            checkpoint=query.checkpoint,
            notes=self._notes(),
        )
        number = bundle["checkpoint"]["number"]
        return Exported(bundle, f"ledger-{query.first}-{query.last}-checkpoint-{number}.json")

    async def case_history(self, query: CaseHistory) -> list[LedgerEvent]:
        """Everything the ledger holds about a case and the referral that opened it."""
        return await self.reads.case_events(query.case_id)

    async def referral_history(self, query: ReferralHistory) -> list[LedgerEvent]:
        return await self.reads.referral_events(query.referral_id)

    async def case_as_of(self, query: CaseAsOf) -> KnownAsOf:
        """The events recorded by `at` and, with the case lifecycle to fold them, the state."""
        events = await self.reads.case_events_as_of(query.case_id, query.at)
        known, state = state_as_of(events, query.at, self.case_fold)
        note = None if self.case_fold else "no case lifecycle to fold with yet: events only"
        return KnownAsOf(known, state, note)

    async def add_cosignature(self, command: AddCosignature) -> Cosignature:
        """A witness cosigning again keeps its first cosignature, which is what is answered."""
        witnesses = cosigning.witnesses_from(self.settings)
        return await cosigning.cosign(
            self.pool, self._notes(), witnesses, command.checkpoint, command.line
        )

    async def witnessing(self, query: ShowWitnessing) -> Witnessing:
        witnesses = cosigning.witnesses_from(self.settings)
        return await cosigning.witnessing(self.pool, self._notes(), witnesses, query.checkpoint)

    def _key(self) -> Ed25519PrivateKey:
        if self.signing_key is None:
            raise SigningKeyMissing("this needs the ledger's signing key, which was not loaded")
        return self.signing_key

    def _notes(self) -> NoteSigner:
        return NoteSigner(self.settings.note_origin(), self._key())

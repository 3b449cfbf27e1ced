"""The ledger over HTTP: for auditors only. Every read, and every refusal, is recorded in the
ledger itself as RecordAccessed or AccessDenied (servicekit.access), like reads in any service.
The public key is the one thing anyone may fetch, so partners can check what the ledger signed."""

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel

from audit.container import AuditContainer
from audit.domain.timeline import LedgerEvent
from audit.use_cases import (
    CaseAsOf,
    CaseHistory,
    ExportRange,
    LedgerQueries,
    ListEntries,
    ProveConsistency,
    ProveInclusion,
    ReferralHistory,
    ShowCheckpoint,
    ShowCheckpointNote,
    VerifyLedger,
)
from offramp_contracts import Actor
from servicekit.access import participant_record
from servicekit.auth import Principal
from servicekit.http import Runtime, require_role
from servicekit.inputs import IsoInstant

router = APIRouter(tags=["ledger"])

# Ledger positions and checkpoint numbers are Postgres bigints: a larger number names nothing
# and is refused as invalid, instead of overflowing in the database driver.
BIGINT_MAX = 2**63 - 1


async def queries_of(runtime: Runtime) -> LedgerQueries:
    return runtime.container_as(AuditContainer).queries


Queries = Annotated[LedgerQueries, Depends(queries_of)]
Auditor = Annotated[Principal, Depends(require_role("auditor"))]
LEDGER = participant_record("ledger")
CASE = participant_record("case", "case_id")
REFERRAL = participant_record("referral", "referral_id")
Position = Annotated[int, Query(ge=1, le=BIGINT_MAX)]
LatestOr = Annotated[int | None, Query(ge=1, le=BIGINT_MAX)]
CheckpointNumber = Annotated[int, Path(ge=1, le=BIGINT_MAX)]


class VerificationOut(BaseModel):
    intact: bool
    entries_checked: int
    checkpoints_checked: int
    head_hash: str
    first_bad_seq: int | None
    bad_checkpoint: int | None
    fault: str | None
    explanation: str | None
    # How many entries each producer's signature vouches for.
    written_by: dict[str, int]
    # How many entries, unsigned, were appended before events were signed (the cut-over).
    before_signing: int
    # How many of the trusted witnesses must cosign a checkpoint, and the latest checkpoint
    # that carries that many valid cosignatures (it vouches for all before it); None: none yet.
    witness_quorum: int
    witnessed_through: int | None
    summary: str


class LedgerEntryOut(BaseModel):
    seq: int
    subject: str
    entry: dict[str, Any]
    previous_hash: str
    hash: str
    # Who wrote it: the producer whose key signed the event, the key and the signature.
    producer: str | None
    key_id: str | None
    signature: str | None


class PublicKeyOut(BaseModel):
    origin: str
    key_id: str
    public_key_hex: str
    public_key_pem: str
    # The same key as a C2SP signed-note verifier key, and the origin its notes carry.
    note_origin: str
    note_verifier_key: str


class TimelineEntryOut(BaseModel):
    seq: int
    event_id: UUID
    event_type: str
    stream_id: str
    occurred_at: datetime
    recorded_at: datetime
    actor: Actor
    data: dict[str, Any]


class HistoryOut(BaseModel):
    entries: list[TimelineEntryOut]


class AsOfOut(BaseModel):
    case_id: UUID
    at: datetime
    entries: list[TimelineEntryOut]
    state: Any
    state_note: str | None


def _timeline(events: list[LedgerEvent]) -> list[TimelineEntryOut]:
    return [
        TimelineEntryOut(
            seq=e.seq,
            event_id=e.event.event_id,
            event_type=e.event.event_type,
            stream_id=e.event.stream_id,
            occurred_at=e.event.occurred_at,
            recorded_at=e.event.recorded_at,
            actor=e.event.actor,
            data=e.event.data,
        )
        for e in events
    ]


@router.get("/ledger/verify", response_model=VerificationOut, openapi_extra=LEDGER)
async def verify_ledger(auditor: Auditor, queries: Queries) -> VerificationOut:
    """Recompute the chain and check every checkpoint: intact up to entry N, checkpoint K, or
    the first entry or checkpoint where it breaks, and how."""
    verified = await queries.verify(VerifyLedger())
    return VerificationOut(
        **verified.report.__dict__,
        witness_quorum=verified.witness_quorum,
        witnessed_through=verified.witnessed_through,
        summary=verified.report.summary,
    )


@router.get("/ledger/entries", response_model=list[LedgerEntryOut], openapi_extra=LEDGER)
async def ledger_entries(
    auditor: Auditor,
    queries: Queries,
    after_seq: Annotated[int, Query(ge=0, le=BIGINT_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[LedgerEntryOut]:
    listed = await queries.entries(ListEntries(after_seq, limit))
    return [LedgerEntryOut(**vars(entry)) for entry in listed]


@router.get("/ledger/public-key", response_model=PublicKeyOut, tags=["checkpoints"])
async def public_key(queries: Queries) -> PublicKeyOut:
    """The key every checkpoint is signed with; pin it to check proofs and exports offline."""
    return PublicKeyOut(**vars(queries.public_key()))


@router.get("/ledger/producer-keys", tags=["checkpoints"])
async def producer_keys(queries: Queries) -> list[dict[str, str]]:
    """The services' event keys the ledger checks every entry's signature with, retired keys
    included; pin them (`offramp-audit check --producer-keys`) to know who wrote each entry."""
    return queries.producer_key_set()


@router.get("/ledger/checkpoints", tags=["checkpoints"], openapi_extra=LEDGER)
async def checkpoints(auditor: Auditor, queries: Queries) -> list[dict[str, Any]]:
    return [c.to_json() for c in await queries.checkpoints()]


@router.get("/ledger/checkpoints/{number}", tags=["checkpoints"], openapi_extra=LEDGER)
async def one_checkpoint(
    auditor: Auditor, queries: Queries, number: CheckpointNumber
) -> dict[str, Any]:
    return (await queries.checkpoint(ShowCheckpoint(number))).to_json()


@router.get(
    "/ledger/checkpoints/{number}/note",
    tags=["checkpoints"],
    openapi_extra=LEDGER,
    response_class=PlainTextResponse,
)
async def checkpoint_note(
    auditor: Auditor, queries: Queries, number: CheckpointNumber
) -> PlainTextResponse:
    """Checkpoint `number` as a C2SP signed note (c2sp.org/tlog-checkpoint): origin, tree size
    and base64 root, signed by the ledger's key; check it with the `note_verifier_key` of
    /ledger/public-key and any signed-note verifier. The witnesses' cosignatures stored for it
    follow the ledger's signature line (c2sp.org/tlog-cosignature)."""
    text = await queries.checkpoint_note(ShowCheckpointNote(number))
    return PlainTextResponse(text, media_type="text/plain; charset=utf-8")


@router.get("/ledger/proofs/inclusion", tags=["proofs"], openapi_extra=LEDGER)
async def inclusion_proof(
    auditor: Auditor, queries: Queries, seq: Position, checkpoint: LatestOr = None
) -> dict[str, Any]:
    """Entry `seq` and its audit path to checkpoint `checkpoint` (the latest by default); check
    it offline with `offramp-audit check`."""
    return await queries.inclusion(ProveInclusion(seq, checkpoint))


@router.get("/ledger/proofs/consistency", tags=["proofs"], openapi_extra=LEDGER)
async def consistency_proof(
    auditor: Auditor, queries: Queries, first: Position, second: LatestOr = None
) -> dict[str, Any]:
    """Proof that checkpoint `first` is a prefix of checkpoint `second` (the latest by default)."""
    return await queries.consistency(ProveConsistency(first, second))


@router.get("/ledger/export", tags=["proofs"], openapi_extra=LEDGER)
async def export(
    auditor: Auditor,
    queries: Queries,
    first: Position,
    last: Position,
    checkpoint: LatestOr = None,
) -> JSONResponse:
    """Entries `first`..`last` with their checkpoint and proofs, as a file that
    `offramp-audit check` verifies on any machine, without the database."""
    exported = await queries.export(ExportRange(first, last, checkpoint))
    disposition = f'attachment; filename="{exported.file_name}"'
    return JSONResponse(exported.bundle, headers={"Content-Disposition": disposition})


@router.get(
    "/ledger/cases/{case_id}/history",
    response_model=HistoryOut,
    tags=["replay"],
    openapi_extra=CASE,
)
async def case_history(auditor: Auditor, queries: Queries, case_id: UUID) -> HistoryOut:
    """Everything the ledger holds about a case and the referral that opened it, in order,
    with who did what."""
    return HistoryOut(entries=_timeline(await queries.case_history(CaseHistory(case_id))))


@router.get(
    "/ledger/referrals/{referral_id}/history",
    response_model=HistoryOut,
    tags=["replay"],
    openapi_extra=REFERRAL,
)
async def referral_history(auditor: Auditor, queries: Queries, referral_id: UUID) -> HistoryOut:
    events = await queries.referral_history(ReferralHistory(referral_id))
    return HistoryOut(entries=_timeline(events))


@router.get(
    "/ledger/cases/{case_id}/as-of", response_model=AsOfOut, tags=["replay"], openapi_extra=CASE
)
async def case_as_of(auditor: Auditor, queries: Queries, case_id: UUID, at: IsoInstant) -> AsOfOut:
    """The case as the programme knew it at `at`: the events recorded by then and, once the
    case lifecycle is available to fold them, the state they make."""
    known = await queries.case_as_of(CaseAsOf(case_id, at))
    return AsOfOut(
        case_id=case_id,
        at=at,
        entries=_timeline(known.events),
        state=known.state,
        state_note=known.state_note,
    )

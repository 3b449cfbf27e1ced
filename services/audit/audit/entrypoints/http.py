"""The ledger over HTTP: for auditors only. Every read, and every refusal, is recorded in the
ledger itself as RecordAccessed or AccessDenied (servicekit.access), like reads in any service.
The public key is the one thing anyone may fetch, so partners can check what the ledger signed."""

import json
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel

from audit import cosigning, proofs
from audit.adapters import checkpoint_store, history_store
from audit.adapters.signing_key import public_key_pem
from audit.container import AuditContainer
from audit.domain.checkpoint import key_id, raw_public_key
from audit.domain.note import NoteSigner
from audit.domain.timeline import LedgerEvent, state_as_of
from audit.ledger import Ledger
from offramp_contracts import Actor
from servicekit.access import participant_record
from servicekit.auth import Principal
from servicekit.http import Runtime, require_role
from servicekit.inputs import IsoInstant
from servicekit.problems import Problem

router = APIRouter(tags=["ledger"])

# Ledger positions and checkpoint numbers are Postgres bigints: a larger number names nothing
# and is refused as invalid, instead of overflowing in the database driver.
BIGINT_MAX = 2**63 - 1


async def ledger_of(runtime: Runtime) -> Ledger:
    return runtime.container_as(AuditContainer).ledger


LedgerDep = Annotated[Ledger, Depends(ledger_of)]


def notes_of(ledger: Ledger) -> NoteSigner:
    return NoteSigner(ledger.settings.note_origin(), ledger.key)


Auditor = Annotated[Principal, Depends(require_role("auditor"))]
LEDGER = participant_record("ledger")
CASE = participant_record("case", "case_id")
REFERRAL = participant_record("referral", "referral_id")


def not_found(error: LookupError) -> Problem:
    return Problem(404, "not-found", "Not in the ledger", str(error))


def _unvouched(error: proofs.Unvouched) -> Problem:
    return Problem(409, "checkpoint-not-vouched", "The ledger does not vouch for that", str(error))


def _bad_range(error: ValueError) -> Problem:
    return Problem(422, "unprovable-range", "Cannot prove that", str(error))


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
async def verify_ledger(auditor: Auditor, ledger: LedgerDep) -> VerificationOut:
    """Recompute the chain and check every checkpoint: intact up to entry N, checkpoint K, or
    the first entry or checkpoint where it breaks, and how."""
    report = await proofs.verify(ledger.pool, [ledger.key.public_key()], ledger.producer_keys)
    if ledger.gauges is not None:
        ledger.gauges.verified(report.intact)
    witnesses = cosigning.witnesses_from(ledger.settings)
    witnessed = (
        await cosigning.witnessed_through(ledger.pool, notes_of(ledger), witnesses)
        if witnesses.quorum
        else None
    )
    return VerificationOut(
        **report.__dict__,
        witness_quorum=witnesses.quorum,
        witnessed_through=witnessed,
        summary=report.summary,
    )


@router.get("/ledger/entries", response_model=list[LedgerEntryOut], openapi_extra=LEDGER)
async def ledger_entries(
    auditor: Auditor,
    ledger: LedgerDep,
    after_seq: Annotated[int, Query(ge=0, le=BIGINT_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[LedgerEntryOut]:
    rows = await ledger.pool.fetch(
        """SELECT seq, subject, entry, previous_hash, hash, producer, key_id, signature
           FROM ledger WHERE seq > $1 ORDER BY seq LIMIT $2""",
        after_seq,
        limit,
    )
    return [LedgerEntryOut(**{**dict(row), "entry": json.loads(row["entry"])}) for row in rows]


@router.get("/ledger/public-key", response_model=PublicKeyOut, tags=["checkpoints"])
async def public_key(ledger: LedgerDep) -> PublicKeyOut:
    """The key every checkpoint is signed with; pin it to check proofs and exports offline."""
    key = ledger.key.public_key()
    return PublicKeyOut(
        origin=ledger.settings.ledger_origin,
        key_id=key_id(key),
        public_key_hex=raw_public_key(key).hex(),
        public_key_pem=public_key_pem(ledger.key),
        note_origin=ledger.settings.note_origin(),
        note_verifier_key=notes_of(ledger).verifier_key(),
    )


@router.get("/ledger/producer-keys", tags=["checkpoints"])
async def producer_keys(ledger: LedgerDep) -> list[dict[str, str]]:
    """The services' event keys the ledger checks every entry's signature with, retired keys
    included; pin them (`offramp-audit check --producer-keys`) to know who wrote each entry."""
    return [key.to_json() for key in ledger.producer_keys.keys()]


@router.get("/ledger/checkpoints", tags=["checkpoints"], openapi_extra=LEDGER)
async def checkpoints(auditor: Auditor, ledger: LedgerDep) -> list[dict[str, Any]]:
    return [c.to_json() for c in await checkpoint_store.all_checkpoints(ledger.pool)]


@router.get("/ledger/checkpoints/{number}", tags=["checkpoints"], openapi_extra=LEDGER)
async def one_checkpoint(
    auditor: Auditor, ledger: LedgerDep, number: Annotated[int, Path(ge=1, le=BIGINT_MAX)]
) -> dict[str, Any]:
    found = await checkpoint_store.checkpoint(ledger.pool, number)
    if found is None:
        raise not_found(LookupError(f"no checkpoint {number}"))
    return found.to_json()


@router.get(
    "/ledger/checkpoints/{number}/note",
    tags=["checkpoints"],
    openapi_extra=LEDGER,
    response_class=PlainTextResponse,
)
async def checkpoint_note(
    auditor: Auditor, ledger: LedgerDep, number: Annotated[int, Path(ge=1, le=BIGINT_MAX)]
) -> PlainTextResponse:
    """Checkpoint `number` as a C2SP signed note (c2sp.org/tlog-checkpoint): origin, tree size
    and base64 root, signed by the ledger's key; check it with the `note_verifier_key` of
    /ledger/public-key and any signed-note verifier. The witnesses' cosignatures stored for it
    follow the ledger's signature line (c2sp.org/tlog-cosignature)."""
    try:
        text = await cosigning.cosigned_note(ledger.pool, notes_of(ledger), number)
    except proofs.NotFound as error:
        raise not_found(error) from error
    except proofs.Unvouched as error:
        raise _unvouched(error) from error
    return PlainTextResponse(text, media_type="text/plain; charset=utf-8")


@router.get("/ledger/proofs/inclusion", tags=["proofs"], openapi_extra=LEDGER)
async def inclusion_proof(
    auditor: Auditor,
    ledger: LedgerDep,
    seq: Annotated[int, Query(ge=1, le=BIGINT_MAX)],
    checkpoint: Annotated[int | None, Query(ge=1, le=BIGINT_MAX)] = None,
) -> dict[str, Any]:
    """Entry `seq` and its audit path to checkpoint `checkpoint` (the latest by default); check
    it offline with `offramp-audit check`."""
    try:
        return await proofs.inclusion(
            ledger.pool,
            ledger.key.public_key(),
            ledger.producer_keys,
            seq=seq,
            checkpoint=checkpoint,
            notes=notes_of(ledger),
        )
    except proofs.NotFound as error:
        raise not_found(error) from error
    except proofs.BadRange as error:
        raise _bad_range(error) from error
    except proofs.Unvouched as error:
        raise _unvouched(error) from error


@router.get("/ledger/proofs/consistency", tags=["proofs"], openapi_extra=LEDGER)
async def consistency_proof(
    auditor: Auditor,
    ledger: LedgerDep,
    first: Annotated[int, Query(ge=1, le=BIGINT_MAX)],
    second: Annotated[int | None, Query(ge=1, le=BIGINT_MAX)] = None,
) -> dict[str, Any]:
    """Proof that checkpoint `first` is a prefix of checkpoint `second` (the latest by default)."""
    try:
        return await proofs.consistency(
            ledger.pool, ledger.key.public_key(), first=first, second=second
        )
    except proofs.NotFound as error:
        raise not_found(error) from error
    except proofs.BadRange as error:
        raise _bad_range(error) from error


@router.get("/ledger/export", tags=["proofs"], openapi_extra=LEDGER)
async def export(
    auditor: Auditor,
    ledger: LedgerDep,
    first: Annotated[int, Query(ge=1, le=BIGINT_MAX)],
    last: Annotated[int, Query(ge=1, le=BIGINT_MAX)],
    checkpoint: Annotated[int | None, Query(ge=1, le=BIGINT_MAX)] = None,
) -> JSONResponse:
    """Entries `first`..`last` with their checkpoint and proofs, as a file that
    `offramp-audit check` verifies on any machine, without the database."""
    try:
        bundle = await proofs.export(
            ledger.pool,
            ledger.key.public_key(),
            ledger.producer_keys,
            first=first,
            last=last,
            checkpoint=checkpoint,
            notes=notes_of(ledger),
        )
    except proofs.NotFound as error:
        raise not_found(error) from error
    except proofs.BadRange as error:
        raise _bad_range(error) from error
    except proofs.Unvouched as error:
        raise _unvouched(error) from error
    name = f"ledger-{first}-{last}-checkpoint-{bundle['checkpoint']['number']}.json"
    return JSONResponse(bundle, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get(
    "/ledger/cases/{case_id}/history",
    response_model=HistoryOut,
    tags=["replay"],
    openapi_extra=CASE,
)
async def case_history(auditor: Auditor, ledger: LedgerDep, case_id: UUID) -> HistoryOut:
    """Everything the ledger holds about a case and the referral that opened it, in order,
    with who did what."""
    return HistoryOut(entries=_timeline(await history_store.case_events(ledger.pool, case_id)))


@router.get(
    "/ledger/referrals/{referral_id}/history",
    response_model=HistoryOut,
    tags=["replay"],
    openapi_extra=REFERRAL,
)
async def referral_history(auditor: Auditor, ledger: LedgerDep, referral_id: UUID) -> HistoryOut:
    events = await history_store.referral_events(ledger.pool, referral_id)
    return HistoryOut(entries=_timeline(events))


@router.get(
    "/ledger/cases/{case_id}/as-of", response_model=AsOfOut, tags=["replay"], openapi_extra=CASE
)
async def case_as_of(auditor: Auditor, ledger: LedgerDep, case_id: UUID, at: IsoInstant) -> AsOfOut:
    """The case as the programme knew it at `at`: the events recorded by then and, once the
    case lifecycle is available to fold them, the state they make."""
    events = await history_store.case_events_as_of(ledger.pool, case_id, at)
    known, state = state_as_of(events, at, ledger.case_fold)
    note = None if ledger.case_fold else "no case lifecycle to fold with yet: events only"
    return AsOfOut(case_id=case_id, at=at, entries=_timeline(known), state=state, state_note=note)

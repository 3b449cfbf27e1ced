"""The ledger over HTTP, for auditors only."""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from audit import ledger
from servicekit.auth import Principal
from servicekit.http import Runtime, require_role

router = APIRouter(tags=["ledger"])
Auditor = Annotated[Principal, Depends(require_role("auditor"))]


class VerificationOut(BaseModel):
    intact: bool
    entries_checked: int
    head_hash: str
    first_bad_seq: int | None
    fault: str | None
    explanation: str | None
    summary: str


class LedgerEntryOut(BaseModel):
    seq: int
    subject: str
    entry: dict[str, Any]
    previous_hash: str
    hash: str


@router.get("/ledger/verify", response_model=VerificationOut)
async def verify_ledger(auditor: Auditor, runtime: Runtime) -> VerificationOut:
    """Recompute the whole chain and say whether it is intact, or where it first breaks."""
    result = await ledger.verify(runtime.pool)
    summary = (
        f"intact up to entry {result.entries_checked}"
        if result.intact
        else f"broken at entry {result.first_bad_seq}: {result.explanation}"
    )
    return VerificationOut(**result.__dict__, summary=summary)


@router.get("/ledger/entries", response_model=list[LedgerEntryOut])
async def ledger_entries(
    auditor: Auditor,
    runtime: Runtime,
    after_seq: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[LedgerEntryOut]:
    rows = await runtime.pool.fetch(
        """SELECT seq, subject, entry, previous_hash, hash FROM ledger
           WHERE seq > $1 ORDER BY seq LIMIT $2""",
        after_seq,
        limit,
    )
    return [LedgerEntryOut(**{**dict(row), "entry": json.loads(row["entry"])}) for row in rows]

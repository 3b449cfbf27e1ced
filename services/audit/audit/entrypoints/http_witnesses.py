"""Witnesses over HTTP: a partner agency's witness, signed in as its agency's auditor, posts
its cosignature of a checkpoint; auditors read who cosigned and whether the quorum is met."""

from fastapi import APIRouter
from pydantic import BaseModel, Field

from audit.entrypoints.http import LEDGER, Auditor, CheckpointNumber, Queries
from audit.use_cases import AddCosignature, ShowWitnessing

router = APIRouter(tags=["checkpoints"])


class CosignatureIn(BaseModel):
    # The signature line `offramp-audit witness` prints: `— <witness name> <base64>`.
    cosignature: str = Field(min_length=1, max_length=1000)


class CosignatureOut(BaseModel):
    checkpoint: int
    witness: str
    timestamp: int
    line: str


class WitnessingOut(BaseModel):
    checkpoint: int
    quorum: int
    trusted_witnesses: int
    cosigned_by: list[str]
    quorum_met: bool


@router.post(
    "/ledger/checkpoints/{number}/cosignatures",
    status_code=201,
    openapi_extra=LEDGER,
    responses={404: {"description": "No such checkpoint"}, 422: {"description": "Not accepted"}},
)
async def add_cosignature(
    auditor: Auditor, queries: Queries, number: CheckpointNumber, body: CosignatureIn
) -> CosignatureOut:
    """Store a witness's C2SP cosignature/v1 of checkpoint `number`'s signed note, if a witness
    this ledger trusts made it; a witness cosigning again keeps its first cosignature."""
    made = await queries.add_cosignature(AddCosignature(number, body.cosignature))
    return CosignatureOut(
        checkpoint=number, witness=made.witness, timestamp=made.timestamp, line=made.line
    )


@router.get("/ledger/checkpoints/{number}/cosignatures", openapi_extra=LEDGER)
async def cosignatures(
    auditor: Auditor, queries: Queries, number: CheckpointNumber
) -> WitnessingOut:
    """Which trusted witnesses validly cosigned checkpoint `number`, and whether that is the
    quorum (k of n) the ledger's settings require."""
    found = await queries.witnessing(ShowWitnessing(number))
    return WitnessingOut(
        checkpoint=found.checkpoint,
        quorum=found.quorum,
        trusted_witnesses=found.trusted,
        cosigned_by=found.cosigned_by,
        quorum_met=found.quorum_met,
    )

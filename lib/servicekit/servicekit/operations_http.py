"""The operator's HTTP face every service shares: its dead letters, seen, replayed, discarded.

Scoped like notify's parked deliveries: an operator sees the letters whose subject is their own
jurisdiction's. A letter's body (the event, with whatever it says about a person) never leaves
the database this way; the error, subject and event id are what an operator needs to act.
"""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel

from servicekit import dead_letters
from servicekit.auth import Principal
from servicekit.http import Runtime, require_role
from servicekit.outages import is_outage
from servicekit.problems import Problem

router = APIRouter(tags=["operations"])

Operator = Annotated[Principal, Depends(require_role("operator"))]
LetterId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The dead letter's id")]


class DeadLetterView(BaseModel):
    id: int
    consumer: str
    subject: str
    event_id: UUID | None
    error: str
    deliveries: int
    parked_at: datetime
    status: str


def _view(letter: dead_letters.DeadLetter) -> DeadLetterView:
    return DeadLetterView(**letter.__dict__)


def _not_found(dead_letter_id: int) -> Problem:
    return Problem(
        404,
        "not-found",
        "No such parked dead letter",
        f"Dead letter {dead_letter_id} is not parked in your jurisdiction; list them with "
        "GET /dead-letters.",
    )


async def _letter_of(
    runtime: Runtime, operator: Principal, dead_letter_id: int
) -> dead_letters.DeadLetter:
    letter = await dead_letters.find(runtime.pool, dead_letter_id)
    if (
        letter is None
        or letter.status not in dead_letters.WAITING
        or letter.subject.split(".")[1:2] != [operator.jurisdiction]
    ):
        raise _not_found(dead_letter_id)
    return letter


@router.get("/dead-letters", summary="Messages a consumer parked, waiting for an operator")
async def list_dead_letters(operator: Operator, runtime: Runtime) -> list[DeadLetterView]:
    letters = await dead_letters.parked(runtime.pool, jurisdiction=operator.jurisdiction)
    return [_view(letter) for letter in letters]


@router.post(
    "/dead-letters/{dead_letter_id}/replay",
    summary="Hand a parked message to its consumer again, once the cause is fixed",
)
async def replay_dead_letter(
    dead_letter_id: LetterId, operator: Operator, runtime: Runtime
) -> DeadLetterView:
    letter = await _letter_of(runtime, operator, dead_letter_id)
    consumer = runtime.consumers.get(letter.consumer)
    if consumer is None:
        raise Problem(
            409,
            "not-replayable",
            "This dead letter cannot be replayed",
            f"It was parked by {letter.consumer}, which is not an event consumer this service "
            "replays (the ledger writer parks only what can never be appended). Look into it, "
            f"then discard it with POST /dead-letters/{dead_letter_id}/discard.",
        )
    try:
        await dead_letters.replay(runtime.pool, dead_letter_id, consumer)
    except LookupError:
        raise _not_found(dead_letter_id) from None
    except Exception as error:
        if is_outage(error):
            raise
        raise Problem(
            409,
            "replay-failed",
            "The replay failed again",
            f"The consumer failed again ({error!r:.300}); the letter stays parked. Fix the "
            "cause and replay it again.",
        ) from error
    replayed = await dead_letters.find(runtime.pool, dead_letter_id)
    assert replayed is not None
    return _view(replayed)


@router.post(
    "/dead-letters/{dead_letter_id}/discard",
    summary="Give up on a parked message: it stays on record as discarded",
)
async def discard_dead_letter(
    dead_letter_id: LetterId, operator: Operator, runtime: Runtime
) -> DeadLetterView:
    await _letter_of(runtime, operator, dead_letter_id)
    try:
        await dead_letters.discard(runtime.pool, dead_letter_id)
    except LookupError:
        raise _not_found(dead_letter_id) from None
    discarded = await dead_letters.find(runtime.pool, dead_letter_id)
    assert discarded is not None
    return _view(discarded)

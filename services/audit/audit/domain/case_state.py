"""A case rebuilt from the ledger with the case lifecycle in `contracts/`, the same fold casework
keeps its cases with, so the auditor's view and casework's cannot drift apart."""

from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter

from offramp_contracts import EventEnvelope, payload_of
from offramp_contracts.lifecycle import CASE_EVENTS, CaseState, coarse_status, replay

LIFECYCLE_EVENTS: frozenset[str] = frozenset(model.event_type for model in CASE_EVENTS)
"""The events that change a case; a case's history also holds its referral's intake events,
which the lifecycle does not fold."""

_STATE = TypeAdapter(CaseState)


def fold_case(events: Sequence[EventEnvelope]) -> dict[str, Any] | None:
    """The case after `events` (oldest first) as plain JSON, with the coarse status officers
    would have seen; None if the case had not opened yet."""
    state = replay(payload_of(e) for e in events if e.event_type in LIFECYCLE_EVENTS)
    if state is None:
        return None
    folded: dict[str, Any] = _STATE.dump_python(state, mode="json")
    folded["coarse_status"] = coarse_status(state)
    return folded

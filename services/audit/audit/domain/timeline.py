"""A case's history as the ledger holds it: who did what, in order, and what was known at an
instant.

The ledger only selects and orders. Turning a case's events into its state belongs to the case
lifecycle in `contracts/`, which this module receives as a `CaseFold` rather than imports, so
the ledger never holds its own idea of what a case is.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from offramp_contracts import EventEnvelope


@dataclass(frozen=True)
class LedgerEvent:
    """An event as the ledger holds it: its position, and the envelope as published."""

    seq: int
    event: EventEnvelope


CaseFold = Callable[[Sequence[EventEnvelope]], Any]
"""Events of one case, oldest first, to the case's state (the lifecycle's fold)."""


def ordered(events: Sequence[LedgerEvent]) -> list[LedgerEvent]:
    """Ledger order: the order the programme learnt of things, which keeps every stream's own
    order (each service publishes its streams in the order it stored them)."""
    return sorted(events, key=lambda e: e.seq)


def known_at(events: Sequence[LedgerEvent], instant: datetime) -> list[LedgerEvent]:
    """What the programme knew of a case at `instant`: the events its services had recorded by
    then. `recorded_at`, not `occurred_at`: a contact logged on Friday for Monday was not known
    on Tuesday, and "as it stood" means as the programme could have acted on it."""
    return [e for e in ordered(events) if e.event.recorded_at <= instant]


def state_as_of(
    events: Sequence[LedgerEvent], instant: datetime, fold: CaseFold | None
) -> tuple[list[LedgerEvent], Any]:
    """The events known at `instant` and, given the lifecycle's fold, the state they make."""
    known = known_at(events, instant)
    state = fold([e.event for e in known]) if fold is not None else None
    return known, state

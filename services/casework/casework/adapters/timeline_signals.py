"""Telling a case's timeline that a fact was stored, after the transaction committed.

Twice, on purpose. The command signals at once, so the timeline wakes without delay; and a
consumer of casework's own fact events signals again from the bus, so a fact whose first signal
was lost (the process killed between the commit and the signal, Temporal down at that moment)
still reaches the timeline: the outbox carries every stored event to the bus, and the workflow
ignores a signal whose event id it has seen.
"""

from collections.abc import Sequence
from uuid import UUID

import asyncpg
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from casework.timeline.model import FACT_SIGNAL, CaseFact, FactKind, workflow_id_for
from offramp_contracts import EventEnvelope, payload_of
from offramp_contracts.events.casework import ContactLogged
from servicekit.inbox import Delivered
from servicekit.log import get_logger
from servicekit.outages import DependencyUnavailable

log = get_logger(__name__)

# Durable consumer of the fact events below (versioned: JetStream keeps a durable's old filter).
FACTS_CONSUMER = "casework-timeline-facts-v1"

_KINDS: dict[str, FactKind] = {
    "ContactLogged": "contact",
    "IntakeAssessmentCompleted": "intake_assessed",
    "CaseClosed": "closed",
}

# Temporal answers these while it is down, restarting or overloaded: try again later.
TEMPORAL_OUTAGE = frozenset(
    {
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.RESOURCE_EXHAUSTED,
        RPCStatusCode.ABORTED,
    }
)


def is_temporal_outage(error: BaseException) -> bool:
    return isinstance(error, RPCError) and error.status in TEMPORAL_OUTAGE


def fact_subjects(subject_root: str) -> list[str]:
    return [f"{subject_root}.*.casework.{event_type}" for event_type in _KINDS]


def facts_in(events: Sequence[EventEnvelope]) -> list[CaseFact]:
    facts = []
    for event in events:
        kind = _KINDS.get(event.event_type)
        if kind is None:
            continue
        payload = payload_of(event)
        at = payload.contacted_at if isinstance(payload, ContactLogged) else event.occurred_at
        facts.append(CaseFact(event_id=event.event_id, kind=kind, at=at))
    return facts


class TimelineSignals:
    def __init__(self, client: Client) -> None:
        self._client = client

    async def stored(self, case_id: UUID, events: Sequence[EventEnvelope]) -> None:
        """After a command: never turns a command whose events are committed into a failure;
        the fact consumer signals again whatever did not get through."""
        try:
            await self.tell(case_id, events)
        except (DependencyUnavailable, RPCError) as error:
            log.warning(
                "could not signal the case timeline; the bus will",
                case_id=str(case_id),
                error=str(error),
            )

    async def on_fact_event(self, conn: asyncpg.Connection, delivered: Delivered) -> None:
        """The fact consumer's handler: the event as the outbox published it."""
        case_id = getattr(payload_of(delivered.event), "case_id", None)
        if not isinstance(case_id, UUID):
            return
        await self.tell(case_id, [delivered.event])

    async def tell(self, case_id: UUID, events: Sequence[EventEnvelope]) -> None:
        """Signal each fact; DependencyUnavailable while Temporal is unreachable. A timeline that
        has ended (the case was closed) needs nothing more."""
        handle = self._client.get_workflow_handle(workflow_id_for(case_id))
        for fact in facts_in(events):
            try:
                await handle.signal(FACT_SIGNAL, fact)
            except RPCError as error:
                if is_temporal_outage(error):
                    raise DependencyUnavailable(f"Temporal: {error}") from error
                if error.status != RPCStatusCode.NOT_FOUND:
                    raise
                log.info("case timeline has ended", case_id=str(case_id), fact=fact.kind)

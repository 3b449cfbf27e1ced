"""Telling a case's timeline that a fact was stored, after the transaction committed.

A lost signal costs little: the timeline's next activity reads the case as stored. So a failure
to signal is logged, never turned into a failed command whose events are already committed.
"""

from collections.abc import Sequence
from uuid import UUID

from temporalio.client import Client
from temporalio.service import RPCError

from casework.timeline.model import FACT_SIGNAL, CaseFact, FactKind, workflow_id_for
from offramp_contracts import EventEnvelope, payload_of
from offramp_contracts.events.casework import ContactLogged
from servicekit.log import get_logger

log = get_logger(__name__)

_KINDS: dict[str, FactKind] = {
    "ContactLogged": "contact",
    "IntakeAssessmentCompleted": "intake_assessed",
    "CaseClosed": "closed",
}


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
        handle = self._client.get_workflow_handle(workflow_id_for(case_id))
        for fact in facts_in(events):
            try:
                await handle.signal(FACT_SIGNAL, fact)
            except RPCError as error:
                # A closed case's timeline has ended; anything else is caught up by the
                # timeline's next step.
                log.warning(
                    "could not signal the case timeline",
                    case_id=str(case_id),
                    fact=fact.kind,
                    error=str(error),
                )

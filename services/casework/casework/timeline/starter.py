"""Opening a case on an EligibilityDecided event: start its timeline, exactly once."""

import asyncpg
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from casework.timeline.model import WORKFLOW_NAME, TimelineStart, workflow_id_for
from offramp_contracts import payload_of
from offramp_contracts.events.intake import EligibilityDecided
from offramp_contracts.identifiers import case_id_for_referral
from servicekit.inbox import Delivered
from servicekit.log import get_logger

log = get_logger(__name__)


class TimelineStarter:
    def __init__(self, client: Client, task_queue: str) -> None:
        self._client = client
        self._task_queue = task_queue

    async def on_eligibility_decided(self, conn: asyncpg.Connection, delivered: Delivered) -> None:
        """The workflow id is a function of the case id, itself a function of the referral id:
        a redelivered event (or a crash before the inbox row committed) finds the workflow it
        already started instead of starting a second one."""
        event = delivered.event
        decided = payload_of(event)
        assert isinstance(decided, EligibilityDecided)
        if decided.decision != "eligible":
            return
        case_id = case_id_for_referral(decided.referral_id)
        start = TimelineStart(
            case_id=case_id,
            referral_id=decided.referral_id,
            jurisdiction=event.jurisdiction,
            door=decided.door,
            referring_officer=decided.referring_officer,
            policy_version=decided.policy_version,
            correlation_id=event.correlation_id,
            causation_id=event.event_id,
        )
        try:
            await self._client.start_workflow(
                WORKFLOW_NAME,
                start,
                id=workflow_id_for(case_id),
                task_queue=self._task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            log.info("timeline already ran for this case", case_id=str(case_id))
        else:
            log.info("case timeline started", case_id=str(case_id))

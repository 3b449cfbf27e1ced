"""Opening a case on a ReferralAdmitted event: start its timeline, exactly once.

Cases open on admission, not on eligibility, because a full site waitlists eligible referrals
and admits them later (DESIGN.md rule 3).
"""

import asyncpg
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from casework.adapters.timeline_signals import is_temporal_outage
from casework.timeline.model import WORKFLOW_NAME, TimelinePolicy, TimelineStart, workflow_id_for
from offramp_contracts import EventEnvelope, payload_of
from offramp_contracts.events.intake import ReferralAdmitted
from offramp_contracts.identifiers import case_id_for_referral
from offramp_contracts.profile import SiteProfile
from servicekit.inbox import Delivered, Unprocessable
from servicekit.log import get_logger
from servicekit.outages import DependencyUnavailable
from servicekit.profiles import ProfileBook, UnknownProfile

log = get_logger(__name__)


def profile_for(profiles: ProfileBook, event: EventEnvelope, policy_version: str) -> SiteProfile:
    """The profile version the referral was decided under, so a later profile change never
    alters a running case (DESIGN.md rule 13).

    A version this deployment does not hold is never swapped for another: the admission is
    parked as a dead letter, to be replayed once the missing profile file is restored."""
    try:
        return profiles.version(event.jurisdiction, policy_version)
    except UnknownProfile as error:
        raise Unprocessable(
            f"{error}; restore that profile file and replay this dead letter"
        ) from None


def timeline_start(profiles: ProfileBook, event: EventEnvelope) -> TimelineStart:
    admitted = payload_of(event)
    assert isinstance(admitted, ReferralAdmitted)
    profile = profile_for(profiles, event, admitted.policy_version)
    return TimelineStart(
        case_id=case_id_for_referral(admitted.referral_id),
        referral_id=admitted.referral_id,
        jurisdiction=event.jurisdiction,
        door=admitted.door,
        referring_officer=admitted.referring_officer,
        policy_version=profile.version,
        correlation_id=event.correlation_id,
        causation_id=event.event_id,
        policy=TimelinePolicy(
            case_management_agency=profile.agencies.case_management,
            intake_window=profile.intake_window if admitted.door == "arrest_diversion" else None,
            progress_report_interval=profile.progress_report_interval,
            inactivity_period=profile.inactivity_period,
        ),
    )


class TimelineStarter:
    def __init__(self, client: Client, task_queue: str, profiles: ProfileBook) -> None:
        self._client = client
        self._task_queue = task_queue
        self._profiles = profiles

    async def on_referral_admitted(self, conn: asyncpg.Connection, delivered: Delivered) -> None:
        """The workflow id is a function of the case id, itself a function of the referral id:
        a redelivered event (or a crash before the inbox row committed) finds the workflow it
        already started instead of starting a second one."""
        start = timeline_start(self._profiles, delivered.event)
        try:
            await self._client.start_workflow(
                WORKFLOW_NAME,
                start,
                id=workflow_id_for(start.case_id),
                task_queue=self._task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            log.info("timeline already ran for this case", case_id=str(start.case_id))
        except RPCError as error:
            if is_temporal_outage(error):
                # Not the admission's fault: try again without counting an attempt.
                raise DependencyUnavailable(f"Temporal: {error}") from error
            raise
        else:
            log.info("case timeline started", case_id=str(start.case_id))

"""New arrests that intake matched to a participant by their identifiers (a name and a date of
birth, ADR 0013), recorded on the participant's case as NewArrestReported, once each.

Intake holds the person's identity and matches it; casework holds the case. Neither reads the
other's data: intake publishes ParticipantArrestReported naming the referral, and the case id
follows from the referral id.
"""

from uuid import UUID, uuid5

import asyncpg

from casework.adapters.case_store import CaseStore
from casework.domain import case as case_decider
from casework.domain.case import ReportNewArrest
from offramp_contracts import payload_of
from offramp_contracts.events.intake import ParticipantArrestReported
from offramp_contracts.identifiers import case_id_for_referral
from servicekit.inbox import Delivered
from servicekit.log import get_logger

log = get_logger(__name__)

ARRESTS_CONSUMER = "casework-arrest-reports-v1"
_ARREST_EVENT_NAMESPACE = UUID("0d5b7c1e-3f4a-4e57-9b8c-6a2f1e0d9c31")


def arrest_subjects(subject_root: str) -> list[str]:
    return [f"{subject_root}.*.intake.ParticipantArrestReported"]


class CaseNotOpenedYet(LookupError):
    """The participant was admitted but casework has not opened the case yet: retried."""


class ArrestReports:
    def __init__(self, cases: CaseStore) -> None:
        self._cases = cases

    async def on_arrest_reported(self, conn: asyncpg.Connection, delivered: Delivered) -> None:
        reported = payload_of(delivered.event)
        assert isinstance(reported, ParticipantArrestReported)
        case_id = case_id_for_referral(reported.referral_id)
        case = await self._cases.load(conn, case_id)
        if case is None:
            # Admission and the report crossed on the bus; the inbox retries with back-off.
            raise CaseNotOpenedYet(f"case {case_id} is not open yet")
        if not case.state.is_open:
            # Closed after intake matched it: the arrest stays in intake's record and the
            # ledger, but a closed case takes no more events (DESIGN.md rule 5 keeps it closed).
            log.warning("arrest reported for a case closed meanwhile", case_id=str(case_id))
            return
        await self._cases.record(
            conn,
            case,
            case_decider.decide(
                ReportNewArrest(
                    reported_by=reported.reported_by,
                    role=reported.reporter_role,
                    arrested_on=reported.arrested_on,
                ),
                case.state,
            ),
            actor=delivered.event.actor,
            correlation_id=delivered.event.correlation_id,
            causation_id=delivered.event.event_id,
            event_ids=[uuid5(_ARREST_EVENT_NAMESPACE, str(delivered.event.event_id))],
        )
        log.info("new arrest recorded from intake", case_id=str(case_id))

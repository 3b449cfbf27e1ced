"""A case's events as the pure tests of the case projection and casework's guards write them:
one case of the Pontiac pilot, its people, and a builder for each kind of event."""

from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid5

from offramp_contracts.events.base import Door, EventPayload, StaffRef
from offramp_contracts.events.casework import (
    CaseClosed,
    CaseOpened,
    ContactLogged,
    IntakeAssessment,
    IntakeAssessmentCompleted,
    IntakeWindowMissed,
    InterventionPlanUpdated,
    NonComplianceReported,
    ProgressReportDue,
    ProsecutorDecisionRecorded,
)
from offramp_contracts.events.consent import (
    REDISCLOSURE_NOTICE,
    ConsentGranted,
    ConsentRevoked,
    InformationDisclosed,
    Recipient,
    RightToRevoke,
    Signature,
)
from offramp_contracts.lifecycle import CaseState, replay

CASE = UUID("0190a3b4-0000-7000-8000-000000000001")
REFERRAL = UUID("0190a3b4-0000-7000-8000-000000000002")
OFFICER = StaffRef(subject="officer-1", agency="pontiac-pd")
CM = StaffRef(subject="cm-1", agency="pontiac-case-management")
PROSECUTOR = StaffRef(subject="pros-1", agency="oakland-prosecutor")
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def ident(n: int) -> UUID:
    return uuid5(CASE, str(n))


def opened(door: Door = "arrest_diversion") -> CaseOpened:
    return CaseOpened(
        case_id=CASE,
        referral_id=REFERRAL,
        door=door,
        referring_officer=OFFICER,
        policy_version="2026.1",
    )


def assessment(door: Door = "arrest_diversion") -> IntakeAssessmentCompleted:
    return IntakeAssessmentCompleted(
        case_id=CASE,
        referral_id=REFERRAL,
        door=door,
        assessed_by=CM,
        within_intake_window=True if door == "arrest_diversion" else None,
        release_signed_on=date(2026, 3, 2),
        assessment=IntakeAssessment(needs=frozenset({"housing"})),
    )


def contact(n: int) -> ContactLogged:
    return ContactLogged(
        case_id=CASE,
        contact_id=ident(n),
        logged_by=CM,
        contacted_at=T0 + timedelta(days=n),
        method="in_person",
    )


def missed() -> IntakeWindowMissed:
    return IntakeWindowMissed(
        case_id=CASE, referral_id=REFERRAL, referring_officer=OFFICER, window_ended_at=T0
    )


def goal(n: int, change: str) -> InterventionPlanUpdated:
    return InterventionPlanUpdated(
        case_id=CASE,
        goal_id=ident(100 + n),
        change=change,
        updated_by=CM,
    )


def non_compliance() -> NonComplianceReported:
    return NonComplianceReported(case_id=CASE, condition="keep in contact")


def decision(kind: str = "continue") -> ProsecutorDecisionRecorded:
    return ProsecutorDecisionRecorded(
        case_id=CASE,
        referral_id=REFERRAL,
        decision=kind,
        prosecutor=PROSECUTOR,
    )


def report(number: int) -> ProgressReportDue:
    return ProgressReportDue(
        case_id=CASE,
        referral_id=REFERRAL,
        referring_officer=OFFICER,
        report_number=number,
        coarse_status="engaged",
    )


def closed(reason: str = "graduated") -> CaseClosed:
    return CaseClosed(case_id=CASE, referral_id=REFERRAL, reason=reason)


PD = StaffRef(subject="pd-1", agency="oakland-public-defender")


def granted(n: int) -> ConsentGranted:
    return ConsentGranted(
        case_id=CASE,
        release_id=ident(200 + n),
        discloser=CM.agency,
        information=frozenset({"program_status"}),
        recipient=Recipient(agency=PD.agency, role="public_defender"),
        purpose="defence in the pending case",
        right_to_revoke=RightToRevoke(statement="I may revoke this.", how="tell my case manager"),
        expires_on="case_closed",
        signature=Signature(signed_by="participant", signed_on=date(2026, 3, 2)),
        recorded_by=CM,
    )


def revoked(n: int) -> ConsentRevoked:
    return ConsentRevoked(
        case_id=CASE, release_id=ident(200 + n), revoked_at=T0, method="orally", recorded_by=CM
    )


def disclosed(n: int) -> InformationDisclosed:
    return InformationDisclosed(
        case_id=CASE,
        release_ids=[ident(200 + n)],
        recipient=PD,
        recipient_role="public_defender",
        information=frozenset({"program_status"}),
        redisclosure_notice=REDISCLOSURE_NOTICE,
    )


def walk(*payloads: EventPayload) -> CaseState:
    state = replay(payloads)
    assert state is not None
    return state

"""The case's decider as specifications: given these events, when this command, then these
events, or this refusal (whole: nothing of a refused command is decided). Pure, no database."""

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from casework.domain import case
from casework.domain.case import (
    BecomeInactive,
    CaseCommand,
    CloseCase,
    GrantRelease,
    LogContact,
    MissIntakeWindow,
    RecordProsecutorDecision,
    ReportNonCompliance,
    ReportProgress,
)
from casework.domain.consent import CaseParties, ReleaseForm
from casework.domain.decisions import InvalidCommand
from casework.domain.transitions import TransitionRefused
from offramp_contracts.events.base import EventPayload, StaffRef
from offramp_contracts.events.casework import CaseClosed, CaseOpened, NonComplianceReported
from offramp_contracts.lifecycle import CaseState
from servicekit.command_loop import fold

CASE = UUID("0190a3b4-0000-7000-8000-0000000000dd")
CM = StaffRef(subject="cm-1", agency="pontiac-case-management")
PROSECUTOR = StaffRef(subject="ada-1", agency="oakland-prosecutor")
T0 = datetime(2026, 3, 1, tzinfo=UTC)
CONDITION = "keep in contact with the case manager"


def given(*events: EventPayload, door: str = "arrest_diversion") -> CaseState:
    opened = CaseOpened(
        case_id=CASE,
        referral_id=CASE,
        door=door,
        referring_officer=StaffRef(subject="o-1", agency="pontiac-pd"),
        policy_version="2026.1",
    )
    state = fold(case.CASE.evolve, case.CASE.initial_state, [opened, *events])
    assert state is not None
    return state


def then(state: CaseState, command: CaseCommand) -> list[str]:
    return [e.event_type for e in case.decide(command, state)]


def contact(days: int = 1) -> LogContact:
    return LogContact(
        contact_id=UUID(int=days),
        logged_by=CM,
        contacted_at=T0 + timedelta(days=days),
        method="in_person",
        notes="",
        inactivity_period=timedelta(days=30),
    )


CLOSED = CaseClosed(case_id=CASE, referral_id=CASE, reason="moved")


def test_no_command_is_decided_before_the_case_is_opened() -> None:
    with pytest.raises(TransitionRefused, match="no case yet"):
        case.decide(contact(), None)


def test_the_first_contact_engages_the_participant_and_the_next_only_logs() -> None:
    state = given()
    assert then(state, contact()) == ["ContactLogged", "ClientEngaged"]
    engaged = given(*case.decide(contact(), state))
    assert then(engaged, contact(2)) == ["ContactLogged"]


def test_a_closed_case_refuses_a_contact_as_closed() -> None:
    with pytest.raises(TransitionRefused, match=r"closed \(moved\)") as refused:
        case.decide(contact(), given(CLOSED))
    assert refused.value.case_closed


def test_a_closed_case_refuses_a_release_before_the_form_is_judged() -> None:
    """An incomplete form on a closed case: the closing is what the case manager must hear."""
    parties = CaseParties(
        case_id=CASE,
        agency=CM.agency,
        prosecutor_agency=PROSECUTOR.agency,
        referring_agency="pontiac-pd",
    )
    command = GrantRelease(
        form=ReleaseForm(),
        parties=parties,
        release_id=UUID(int=7),
        recorded_by=CM,
        now=T0,
    )
    with pytest.raises(TransitionRefused, match="takes no new release") as refused:
        case.decide(command, given(CLOSED))
    assert refused.value.case_closed


def test_non_compliance_is_a_site_condition_breached_and_waits_for_the_prosecutor() -> None:
    report = ReportNonCompliance(condition=CONDITION, details="", site_conditions=(CONDITION,))
    assert then(given(), report) == ["NonComplianceReported"]
    with pytest.raises(InvalidCommand, match="not one of the site's conditions"):
        case.decide(ReportNonCompliance("other", "", (CONDITION,)), given())
    reported = given(NonComplianceReported(case_id=CASE, condition=CONDITION))
    with pytest.raises(TransitionRefused, match="yet to decide"):
        case.decide(report, reported)
    with pytest.raises(TransitionRefused, match="only to arrest diversions"):
        case.decide(report, given(door="social_contact"))


def test_filing_the_charge_records_the_decision_and_closes_the_case_or_nothing() -> None:
    filing = RecordProsecutorDecision(decision="file_charge", prosecutor=PROSECUTOR, reason="")
    reported = given(NonComplianceReported(case_id=CASE, condition=CONDITION))
    assert then(reported, filing) == ["ProsecutorDecisionRecorded", "CaseClosed"]
    with pytest.raises(TransitionRefused, match="nothing waits"):
        case.decide(filing, given())


def test_a_case_manager_cannot_close_a_case_as_charges_filed() -> None:
    with pytest.raises(InvalidCommand):
        case.decide(CloseCase("charges_filed"), given())
    assert then(given(), CloseCase("graduated")) == ["CaseClosed"]


def test_a_timer_whose_moment_has_passed_decides_nothing() -> None:
    closed = given(CLOSED)
    assert then(closed, MissIntakeWindow(deadline=T0)) == []
    assert then(closed, ReportProgress(1)) == []
    assert then(given(door="social_contact"), MissIntakeWindow(deadline=T0)) == []
    soon = BecomeInactive(opened_at=T0, period=timedelta(days=30), at=T0 + timedelta(days=1))
    assert then(given(), soon) == []
    late = BecomeInactive(opened_at=T0, period=timedelta(days=30), at=T0 + timedelta(days=31))
    assert then(given(), late) == ["ClientBecameInactive"]
    assert then(given(), MissIntakeWindow(deadline=T0)) == ["IntakeWindowMissed"]
    assert then(given(), ReportProgress(1)) == ["ProgressReportDue"]

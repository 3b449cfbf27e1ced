"""What casework commands and timers mean in events, decided on the case as it stands."""

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest

from casework.domain import decisions
from casework.domain.transitions import accept
from offramp_contracts.events.base import EventPayload, StaffRef
from offramp_contracts.events.casework import (
    CaseOpened,
    ClientBecameActive,
    ClientBecameInactive,
    IntakeAssessment,
    IntakeAssessmentCompleted,
    IntakeWindowMissed,
    ProgressReportDue,
)
from offramp_contracts.lifecycle import CaseState

CASE = UUID("0190a3b4-0000-7000-8000-0000000000aa")
CM = StaffRef(subject="cm-1", agency="pontiac-case-management")
OPENED = datetime(2026, 3, 1, tzinfo=UTC)
WINDOW = timedelta(days=14)


def case(door: str = "arrest_diversion") -> CaseState:
    return accept(
        None,
        CaseOpened(
            case_id=CASE,
            referral_id=CASE,
            door=door,
            referring_officer=StaffRef(subject="o-1", agency="pd"),
            policy_version="2026.1",
        ),
    )


def apply(state: CaseState, events: Sequence[EventPayload]) -> CaseState:
    for event in events:
        state = accept(state, event)
    return state


def assess(state: CaseState, at: datetime) -> list[EventPayload]:
    return list(
        decisions.complete_intake_assessment(
            state,
            assessed_by=CM,
            assessment=IntakeAssessment(needs=frozenset({"food"})),
            release_signed_on=date(2026, 3, 2),
            at=at,
            deadline=decisions.intake_deadline(state.door, OPENED, WINDOW),
        )
    )


def test_only_an_arrest_diversion_has_an_intake_deadline() -> None:
    assert decisions.intake_deadline("arrest_diversion", OPENED, WINDOW) == OPENED + WINDOW
    assert decisions.intake_deadline("social_contact", OPENED, WINDOW) is None


def test_an_assessment_in_time_enrols_within_the_window() -> None:
    (completed,) = assess(case(), OPENED + timedelta(days=3))
    assert isinstance(completed, IntakeAssessmentCompleted)
    assert completed.within_intake_window is True


def test_an_assessment_after_the_deadline_records_the_miss_first_even_before_the_timer() -> None:
    missed, completed = assess(case(), OPENED + WINDOW + timedelta(minutes=1))
    assert isinstance(missed, IntakeWindowMissed) and missed.window_ended_at == OPENED + WINDOW
    assert isinstance(completed, IntakeAssessmentCompleted)
    assert completed.within_intake_window is False
    state = apply(case(), [missed, completed])
    assert state.phase == "enrolled" and state.prosecutor_review == "intake_window_missed"


def test_a_social_contact_assessment_has_no_window_to_be_within() -> None:
    (completed,) = assess(case("social_contact"), OPENED + timedelta(days=90))
    assert isinstance(completed, IntakeAssessmentCompleted)
    assert completed.within_intake_window is None


def test_the_window_timer_does_nothing_once_the_assessment_is_done() -> None:
    state = apply(case(), assess(case(), OPENED + timedelta(days=1)))
    assert decisions.miss_intake_window(state, OPENED + WINDOW) == []


def test_inactivity_counts_from_the_last_contact_or_the_opening() -> None:
    period = timedelta(days=60)
    assert decisions.become_inactive(case(), opened_at=OPENED, period=period, at=OPENED + period)
    contacted = apply(
        case(),
        decisions.log_contact(
            case(),
            contact_id=CASE,
            logged_by=CM,
            contacted_at=OPENED + timedelta(days=30),
            method="phone",
            notes="",
            inactivity_period=period,
        ),
    )
    early = OPENED + period
    assert decisions.become_inactive(contacted, opened_at=OPENED, period=period, at=early) == []
    later = OPENED + timedelta(days=90)
    (inactive,) = decisions.become_inactive(contacted, opened_at=OPENED, period=period, at=later)
    assert isinstance(inactive, ClientBecameInactive)
    assert inactive.last_contact_at == OPENED + timedelta(days=30)


def test_a_contact_logged_late_inside_the_inactivity_period_ends_the_inactivity() -> None:
    inactive = apply(
        case(),
        decisions.become_inactive(
            case(), opened_at=OPENED, period=timedelta(days=60), at=OPENED + timedelta(days=60)
        ),
    )

    def contact(day: int) -> list[EventPayload]:
        return decisions.log_contact(
            inactive,
            contact_id=CASE,
            logged_by=CM,
            contacted_at=OPENED + timedelta(days=day),
            method="text",
            notes="",
            inactivity_period=timedelta(days=60),
        )

    def reason(day: int) -> str | None:
        found = [e for e in contact(day) if isinstance(e, ClientBecameActive)]
        return found[0].reason if found else None

    # Inactive since day 60: a contact on day 10, logged late, means the 60 days never passed.
    assert reason(10) == "contact_logged_late"
    assert reason(59) == "contact_logged_late"
    assert reason(61) == "contact_after_inactivity"
    # A contact on the opening day, logged after 60 days, leaves the 60 days as they were.
    assert reason(0) is None
    assert [e.event_type for e in contact(0)] == ["ContactLogged", "ClientEngaged"]
    (active,) = [e for e in contact(10) if isinstance(e, ClientBecameActive)]
    assert active.contacted_at == OPENED + timedelta(days=10)


def test_progress_reports_carry_the_coarse_status_and_are_not_repeated() -> None:
    (report,) = decisions.report_progress(case(), 1)
    assert isinstance(report, ProgressReportDue)
    assert report.coarse_status == "working_with_case_manager"
    reported = apply(case(), [report])
    assert decisions.report_progress(reported, 1) == []


def test_non_compliance_needs_one_of_the_sites_conditions() -> None:
    with pytest.raises(decisions.InvalidCommand, match="no conditions"):
        decisions.report_non_compliance(case(), condition="x", details="", site_conditions=())
    with pytest.raises(decisions.InvalidCommand, match="not one of"):
        decisions.report_non_compliance(case(), condition="x", details="", site_conditions=("y",))


def test_filing_the_charge_closes_the_case_as_charges_filed_and_nothing_else_does() -> None:
    state = apply(
        case(),
        decisions.report_non_compliance(
            case(), condition="keep in contact", details="", site_conditions=("keep in contact",)
        ),
    )
    events = decisions.record_prosecutor_decision(
        state, decision="file_charge", prosecutor=CM, reason=""
    )
    assert [e.event_type for e in events] == ["ProsecutorDecisionRecorded", "CaseClosed"]
    assert apply(state, list(events)).closure_reason == "charges_filed"
    with pytest.raises(decisions.InvalidCommand):
        decisions.close_case(case(), reason="charges_filed")

"""The case's guards (`casework.domain.transitions`): which events may happen to a case in each
state, and what they do to it. Pure, milliseconds."""

from datetime import timedelta

import pytest

from casework.domain.transitions import TransitionRefused, accept, refusal
from offramp_contracts.events.casework import (
    CaseManagerAssigned,
    ClientBecameActive,
    ClientBecameInactive,
    ClientEngaged,
    ServiceReferralMade,
    ServiceReferralOutcomeRecorded,
)
from offramp_contracts.lifecycle import coarse_status, evolve
from tests.case_events import (
    CASE,
    CM,
    OFFICER,
    REFERRAL,
    T0,
    assessment,
    closed,
    contact,
    decision,
    disclosed,
    goal,
    granted,
    ident,
    missed,
    non_compliance,
    opened,
    report,
    revoked,
    walk,
)

# --- examples ------------------------------------------------------------------------------


def test_a_new_case_is_in_intake_working_with_a_case_manager() -> None:
    state = walk(opened(), CaseManagerAssigned(case_id=CASE, case_manager=CM))
    assert state.phase == "intake"
    assert state.case_manager == CM
    assert coarse_status(state) == "working_with_case_manager"


def test_the_intake_assessment_enrols_and_cannot_happen_twice() -> None:
    state = accept(walk(opened()), assessment())
    assert state.phase == "enrolled"
    with pytest.raises(TransitionRefused, match="already completed"):
        accept(state, assessment())


def test_a_missed_window_returns_the_case_to_the_prosecutor_who_lets_it_continue() -> None:
    state = accept(walk(opened()), missed())
    assert state.prosecutor_review == "intake_window_missed"
    assert coarse_status(state) == "not_engaged"
    state = accept(state, decision("continue"))
    assert state.prosecutor_review is None
    assert state.phase == "intake"  # the intake assessment can still be done late
    assert accept(state, assessment()).phase == "enrolled"


def test_a_social_contact_case_has_no_intake_window() -> None:
    refused = refusal(walk(opened("social_contact")), missed())
    assert refused is not None and "no intake window" in refused.reason


def test_no_window_can_be_missed_once_the_assessment_is_done() -> None:
    assert refusal(walk(opened(), assessment()), missed()) is not None


def test_first_contact_engages_and_inactivity_then_contact_makes_active_again() -> None:
    state = walk(opened(), contact(1), ClientEngaged(case_id=CASE, contact_id=ident(1)))
    assert coarse_status(state) == "engaged"
    inactive = ClientBecameInactive(
        case_id=CASE, last_contact_at=state.last_contact_at, inactive_since=T0 + timedelta(days=60)
    )
    state = accept(state, inactive)
    assert state.inactive and state.is_open
    assert coarse_status(state) == "not_engaged"
    with pytest.raises(TransitionRefused):
        accept(state, inactive)
    state = accept(state, contact(70))
    state = accept(
        state,
        ClientBecameActive(
            case_id=CASE, contact_id=ident(70), reason="contact_after_inactivity", contacted_at=None
        ),
    )
    assert not state.inactive
    assert coarse_status(state) == "engaged"
    assert state.contacts == 2


def test_non_compliance_needs_an_arrest_diversion_and_waits_for_the_prosecutor() -> None:
    assert refusal(walk(opened("social_contact")), non_compliance()) is not None
    state = accept(walk(opened()), non_compliance())
    assert coarse_status(state) == "non_compliant"
    assert refusal(state, non_compliance()) is not None
    state = accept(state, decision("continue"))
    assert coarse_status(state) == "working_with_case_manager"
    assert refusal(state, decision("continue")) is not None


def test_goals_are_added_once_and_achieved_or_dropped_goals_are_final() -> None:
    state = accept(walk(opened()), goal(1, "added"))
    assert refusal(state, goal(1, "added")) is not None
    assert refusal(state, goal(2, "updated")) is not None
    state = accept(accept(state, goal(1, "updated")), goal(1, "achieved"))
    assert state.goals[ident(101)] == "achieved"
    assert refusal(state, goal(1, "dropped")) is not None


def test_a_service_referral_takes_outcomes_until_a_final_one() -> None:
    made = ServiceReferralMade(
        case_id=CASE,
        service_referral_id=ident(7),
        service="housing",
        provider="Haven",
        referred_by=CM,
    )

    def outcome(kind: str) -> ServiceReferralOutcomeRecorded:
        return ServiceReferralOutcomeRecorded(
            case_id=CASE,
            service_referral_id=ident(7),
            outcome=kind,
            recorded_by=CM,
        )

    assert refusal(walk(opened()), outcome("connected")) is not None
    state = walk(opened(), made, outcome("waitlisted"), outcome("connected"))
    state = accept(state, outcome("completed"))
    assert refusal(state, outcome("connected")) is not None
    assert refusal(state, made) is not None


def test_progress_reports_come_in_order() -> None:
    state = accept(walk(opened()), report(1))
    assert refusal(state, report(1)) is not None
    assert refusal(state, report(3)) is not None
    assert accept(state, report(2)).progress_reports == 2


def test_a_closed_case_refuses_every_change_to_care_and_says_it_is_closed() -> None:
    state = walk(opened(), closed("moved"))
    assert coarse_status(state) == "closed"
    for payload in (contact(1), assessment(), closed(), report(1), goal(1, "added"), granted(1)):
        refused = refusal(state, payload)
        assert refused is not None and refused.case_closed
        assert "closed (moved)" in refused.reason


def test_releases_are_recorded_once_revoked_once_and_disclose_only_while_unrevoked() -> None:
    state = accept(walk(opened()), granted(1))
    assert state.releases == {ident(201): "granted"}
    assert refusal(state, granted(1)) is not None
    state = accept(state, disclosed(1))
    assert state.disclosures == 1
    state = accept(state, revoked(1))
    assert state.releases == {ident(201): "revoked"}
    for late in (revoked(1), disclosed(1)):
        refused = refusal(state, late)
        assert refused is not None and "was revoked" in refused.reason
    for unknown in (revoked(2), disclosed(2)):
        refused = refusal(state, unknown)
        assert refused is not None and "no release" in refused.reason
    assert coarse_status(state) == "working_with_case_manager"


def test_a_closed_case_still_takes_a_revocation_and_a_disclosure_but_no_new_release() -> None:
    state = walk(opened(), granted(1), granted(2), closed())
    state = accept(accept(state, disclosed(1)), revoked(2))
    assert state.phase == "closed" and state.disclosures == 1
    refused = refusal(state, granted(3))
    assert refused is not None and refused.case_closed


def test_a_case_opens_once_and_history_starts_with_its_opening() -> None:
    assert refusal(walk(opened()), opened()) is not None
    assert refusal(None, contact(1)) is not None
    with pytest.raises(ValueError):
        evolve(None, contact(1))


def test_events_of_other_contexts_leave_the_case_as_it_was() -> None:
    from offramp_contracts.events.intake import ReferralWaitlisted

    state = walk(opened())
    other = ReferralWaitlisted(
        referral_id=REFERRAL, door="arrest_diversion", referring_officer=OFFICER
    )
    assert evolve(state, other) == state

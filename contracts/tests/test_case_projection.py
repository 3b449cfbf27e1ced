"""The case projection every reader folds (audit's as-of replay, outcomes, casework): what the
stored facts of a case make of it. It never refuses a fact; which events may happen is
casework's rule (services/casework/tests/test_case_guards.py)."""

import pytest

from offramp_contracts.events.casework import (
    CaseClosed,
    CaseManagerAssigned,
    ClientBecameInactive,
    NonComplianceReported,
    ProsecutorDecisionRecorded,
)
from offramp_contracts.events.intake import ReferralWaitlisted
from offramp_contracts.lifecycle import (
    CASE_EVENTS,
    coarse_status,
    evolve,
    intake_window_outcome,
)
from offramp_contracts.registry import event_catalogue
from tests.case_events import CASE, CM, OFFICER, REFERRAL, T0, assessment, missed, opened, walk

ASSESSED = assessment()
MISSED = missed()


def test_a_new_case_is_in_intake_working_with_a_case_manager() -> None:
    state = walk(opened(), CaseManagerAssigned(case_id=CASE, case_manager=CM))
    assert (state.phase, state.case_manager) == ("intake", CM)
    assert coarse_status(state) == "working_with_case_manager"
    assert intake_window_outcome(state) == "pending"


def test_the_coarse_status_follows_the_facts_and_shows_nothing_worse_than_not_engaged() -> None:
    reported = walk(opened(), NonComplianceReported(case_id=CASE, condition="keep in contact"))
    assert coarse_status(reported) == "non_compliant"
    decided = evolve(
        reported,
        ProsecutorDecisionRecorded(
            case_id=CASE, referral_id=REFERRAL, decision="continue", prosecutor=OFFICER
        ),
    )
    assert coarse_status(decided) == "working_with_case_manager"
    assert coarse_status(walk(opened(), MISSED)) == "not_engaged"
    inactive = ClientBecameInactive(case_id=CASE, last_contact_at=None, inactive_since=T0)
    assert coarse_status(walk(opened(), inactive)) == "not_engaged"
    closed = walk(opened(), CaseClosed(case_id=CASE, referral_id=REFERRAL, reason="moved"))
    assert coarse_status(closed) == "closed"
    assert intake_window_outcome(closed) == "closed_before_intake"


def test_a_window_once_missed_stays_missed_and_other_doors_have_none() -> None:
    assert intake_window_outcome(walk(opened(), ASSESSED)) == "met"
    assert intake_window_outcome(walk(opened(), MISSED, ASSESSED)) == "missed"
    assert intake_window_outcome(walk(opened("social_contact"))) is None


def test_a_history_starts_with_its_opening_and_other_contexts_leave_the_case_as_it_was() -> None:
    with pytest.raises(ValueError):
        evolve(None, ASSESSED)
    state = walk(opened())
    other = ReferralWaitlisted(
        referral_id=REFERRAL, door="arrest_diversion", referring_officer=OFFICER
    )
    assert evolve(state, other) == state


def test_every_casework_event_is_a_case_event() -> None:
    catalogue = event_catalogue().items()
    casework = {t for t, model in catalogue if model.__module__.endswith(".casework")}
    assert casework <= {model.event_type for model in CASE_EVENTS}

"""The case's guards (`casework.domain.transitions`) under random command sequences: whatever
is tried, the case's invariants hold, and the decision side and the fold agree."""

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from casework.domain.transitions import ALLOWED, TransitionRefused, accept
from offramp_contracts.events.base import Door, EventPayload
from offramp_contracts.events.casework import (
    CaseClosed,
    CaseManagerAssigned,
    CaseOpened,
    ClientBecameActive,
    ClientBecameInactive,
    ClientEngaged,
    ContactLogged,
    IntakeAssessmentCompleted,
    IntakeWindowMissed,
    NewArrestReported,
    NonComplianceReported,
    ProgressReportDue,
    ProsecutorDecisionRecorded,
    ServiceReferralMade,
    ServiceReferralOutcomeRecorded,
)
from offramp_contracts.events.consent import (
    ConsentRevoked,
    InformationDisclosed,
)
from offramp_contracts.lifecycle import coarse_status, replay
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
)

# --- property: random command sequences ----------------------------------------------------


def candidates() -> st.SearchStrategy[EventPayload]:
    """Every kind of casework event, over a few goal and referral ids so the guards bite."""
    small = st.integers(min_value=1, max_value=3)
    outcomes = st.sampled_from(["connected", "completed", "declined", "not_reached", "waitlisted"])
    return st.one_of(
        st.just(CaseManagerAssigned(case_id=CASE, case_manager=CM)),
        st.just(
            CaseManagerAssigned(
                case_id=CASE, case_manager=CM.model_copy(update={"subject": "cm-2"})
            )
        ),
        st.just(assessment()),
        st.just(missed()),
        small.map(contact),
        small.map(lambda n: ClientEngaged(case_id=CASE, contact_id=ident(n))),
        st.just(ClientBecameInactive(case_id=CASE, last_contact_at=None, inactive_since=T0)),
        small.map(
            lambda n: ClientBecameActive(
                case_id=CASE, contact_id=ident(n), reason="contact_logged_late", contacted_at=None
            )
        ),
        st.builds(goal, small, st.sampled_from(["added", "updated", "achieved", "dropped"])),
        small.map(
            lambda n: ServiceReferralMade(
                case_id=CASE,
                service_referral_id=ident(n),
                service="detox",
                provider="P",
                referred_by=CM,
            )
        ),
        st.builds(
            lambda n, o: ServiceReferralOutcomeRecorded(
                case_id=CASE, service_referral_id=ident(n), outcome=o, recorded_by=CM
            ),
            small,
            outcomes,
        ),
        st.integers(min_value=1, max_value=4).map(report),
        st.just(non_compliance()),
        st.sampled_from(["continue", "file_charge"]).map(decision),
        st.just(
            NewArrestReported(
                case_id=CASE,
                referral_id=REFERRAL,
                reported_by=OFFICER,
                reporter_role="officer",
                arrested_on=date(2026, 4, 1),
            )
        ),
        st.sampled_from(["graduated", "declined", "moved", "deceased", "transferred"]).map(closed),
        st.just(opened()),
        small.map(granted),
        small.map(revoked),
        small.map(disclosed),
    )


PHASE_ORDER = {"intake": 0, "enrolled": 1, "closed": 2}


@settings(max_examples=300, deadline=None)
@given(
    door=st.sampled_from(["arrest_diversion", "social_contact"]),
    commands=st.lists(candidates(), max_size=40),
)
def test_random_command_sequences_keep_the_lifecycle_invariants(
    door: Door, commands: list[EventPayload]
) -> None:
    state = accept(None, opened(door))
    stored: list[EventPayload] = [opened(door)]
    for candidate in commands:
        before = state
        try:
            state = accept(state, candidate)
        except TransitionRefused as refused:
            # A refused command changes nothing, and a closed case refuses as closed whatever
            # is not record keeping (a revocation, a disclosure).
            assert refused.case_closed == (
                before.phase == "closed" and type(candidate) not in ALLOWED["closed"]
            )
            continue
        stored.append(candidate)
        # Phases only move forward, and nothing but CaseClosed closes a case (rule 5: not
        # inactivity, not a missed window, not non-compliance, not a new arrest).
        assert PHASE_ORDER[state.phase] >= PHASE_ORDER[before.phase]
        if before.phase != "closed":
            assert (state.phase == "closed") == isinstance(candidate, CaseClosed)
        else:
            assert type(candidate) in (ConsentRevoked, InformationDisclosed)
        # Nothing is disclosed under, and nothing revokes, a release revoked or never made.
        if isinstance(candidate, InformationDisclosed):
            assert all(before.releases.get(r) == "granted" for r in candidate.release_ids)
        if isinstance(candidate, ConsentRevoked):
            assert before.releases.get(candidate.release_id) == "granted"
        assert not (
            isinstance(candidate, ProsecutorDecisionRecorded) and before.prosecutor_review is None
        )

    # The decision side and the fold agree: rebuilding from what was stored gives the same case.
    assert replay(stored) == state
    kinds = [type(p) for p in stored]
    assert kinds.count(IntakeAssessmentCompleted) <= 1
    assert kinds.count(IntakeWindowMissed) <= (1 if door == "arrest_diversion" else 0)
    assert kinds.count(CaseOpened) == 1
    assert kinds.count(CaseClosed) <= 1
    if door != "arrest_diversion":
        assert NonComplianceReported not in kinds
    numbers = [p.report_number for p in stored if isinstance(p, ProgressReportDue)]
    assert numbers == list(range(1, len(numbers) + 1))
    engaged_at = [i for i, p in enumerate(stored) if isinstance(p, ClientEngaged)]
    first_contact = next((i for i, p in enumerate(stored) if isinstance(p, ContactLogged)), None)
    assert len(engaged_at) <= 1
    assert not engaged_at or (first_contact is not None and first_contact < engaged_at[0])
    assert (coarse_status(state) == "closed") == (state.phase == "closed")
    if state.prosecutor_review == "non_compliance":
        assert coarse_status(state) == "non_compliant"

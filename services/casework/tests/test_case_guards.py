"""The case's guards (`casework.domain.transitions`): which events may happen to a case in each
state, and what they do to it. Pure, milliseconds."""

from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid5

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casework.domain.transitions import ALLOWED, TransitionRefused, accept, refusal
from offramp_contracts.events.base import Door, EventPayload, StaffRef
from offramp_contracts.events.casework import (
    CaseClosed,
    CaseManagerAssigned,
    CaseOpened,
    ClientBecameActive,
    ClientBecameInactive,
    ClientEngaged,
    ContactLogged,
    IntakeAssessment,
    IntakeAssessmentCompleted,
    IntakeWindowMissed,
    InterventionPlanUpdated,
    NewArrestReported,
    NonComplianceReported,
    ProgressReportDue,
    ProsecutorDecisionRecorded,
    ServiceReferralMade,
    ServiceReferralOutcomeRecorded,
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
from offramp_contracts.lifecycle import CaseState, coarse_status, evolve, replay

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
        updated_by=CM,  # type: ignore[arg-type]
    )


def non_compliance() -> NonComplianceReported:
    return NonComplianceReported(case_id=CASE, condition="keep in contact")


def decision(kind: str = "continue") -> ProsecutorDecisionRecorded:
    return ProsecutorDecisionRecorded(
        case_id=CASE,
        referral_id=REFERRAL,
        decision=kind,
        prosecutor=PROSECUTOR,  # type: ignore[arg-type]
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
    return CaseClosed(case_id=CASE, referral_id=REFERRAL, reason=reason)  # type: ignore[arg-type]


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
            recorded_by=CM,  # type: ignore[arg-type]
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

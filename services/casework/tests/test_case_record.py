"""A case as case staff read it, folded from its stream: goals in their wording, service
referrals with provider and latest outcome, and the history in plain lines."""

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from casework.domain.case_record import history_of, plan_of
from offramp_contracts import Actor, EventEnvelope, EventPayload
from offramp_contracts.events.base import StaffRef
from offramp_contracts.events.casework import (
    CaseManagerAssigned,
    CaseOpened,
    ContactLogged,
    InterventionPlanUpdated,
    ServiceReferralMade,
    ServiceReferralOutcomeRecorded,
)
from servicekit.events import new_event, system_actor

CASE = uuid4()
CM = StaffRef(subject="cm-1", agency="pontiac-case-management")
CM_ACTOR = Actor(subject="cm-1", agency="pontiac-case-management", role="case_manager")
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def stream(*payloads: EventPayload) -> list[EventEnvelope]:
    return [
        new_event(
            payload,
            stream_id=f"case-{CASE}",
            stream_version=number,
            jurisdiction="pontiac",
            actor=system_actor("casework") if number <= 2 else CM_ACTOR,
            correlation_id=uuid4(),
            causation_id=None,
            occurred_at=START + timedelta(days=number),
        )
        for number, payload in enumerate(payloads, start=1)
    ]


def goal(goal_id: UUID, change: str, text: str = "") -> InterventionPlanUpdated:
    return InterventionPlanUpdated(
        case_id=CASE,
        goal_id=goal_id,
        change=change,
        updated_by=CM,
        description=text,
    )


def outcome(referral_id: UUID, what: str, notes: str = "") -> ServiceReferralOutcomeRecorded:
    return ServiceReferralOutcomeRecorded(
        case_id=CASE,
        service_referral_id=referral_id,
        outcome=what,
        recorded_by=CM,
        notes=notes,
    )


HOUSING, JOB, DETOX = uuid4(), uuid4(), uuid4()
EVENTS = stream(
    CaseOpened(
        case_id=CASE,
        referral_id=uuid4(),
        door="social_contact",
        referring_officer=StaffRef(subject="officer-17", agency="pontiac-pd"),
        policy_version="2026.1",
    ),
    CaseManagerAssigned(case_id=CASE, case_manager=CM),
    ContactLogged(
        case_id=CASE,
        contact_id=uuid4(),
        logged_by=CM,
        contacted_at=START,
        method="outreach",
        notes="talked about her sister",
    ),
    goal(HOUSING, "added", "housing"),
    goal(HOUSING, "updated", "a lease of her own"),
    goal(JOB, "added", "a job"),
    goal(JOB, "updated", ""),
    goal(HOUSING, "achieved", "signed in March"),
    ServiceReferralMade(
        case_id=CASE,
        service_referral_id=DETOX,
        service="detox",
        provider="Oakland Detox",
        referred_by=CM,
        notes="Tuesdays",
    ),
    outcome(DETOX, "waitlisted"),
    outcome(DETOX, "connected", "first visit went well"),
    outcome(uuid4(), "completed"),
)


def test_goals_keep_their_wording_and_the_note_they_were_settled_with() -> None:
    housing, job = plan_of(EVENTS).goals
    assert (housing.goal_id, housing.status, housing.description) == (
        HOUSING,
        "achieved",
        "a lease of her own",
    )
    assert housing.note == "signed in March"
    assert housing.added_at < housing.changed_at
    # A rewording with no words keeps the words it had.
    assert (job.status, job.description, job.note) == ("open", "a job", "")


def test_a_service_referral_shows_its_provider_and_its_latest_outcome() -> None:
    (detox,) = plan_of(EVENTS).service_referrals  # an outcome for no known referral is no row
    assert (detox.service, detox.provider, detox.notes) == ("detox", "Oakland Detox", "Tuesdays")
    assert (detox.outcome, detox.outcome_notes) == ("connected", "first visit went well")
    assert detox.outcome_at is not None and detox.outcome_at > detox.referred_at


def test_the_history_has_a_line_for_every_event_naming_what_it_is_about() -> None:
    history = history_of(EVENTS)
    assert [h.event_id for h in history] == [e.event_id for e in EVENTS]
    assert [h.summary for h in history] == [
        "Case opened: social contact by officer-17 (pontiac-pd), policy 2026.1",
        "Case manager cm-1 assigned",
        "Contact (outreach) on 2026-11-02 09:00 UTC",
        "Goal added: “housing”",
        "Goal updated: “a lease of her own”",
        "Goal added: “a job”",
        "Goal updated",
        "Goal achieved: “a lease of her own” (note: signed in March)",
        "Referred to detox at Oakland Detox",
        "Outcome of detox at Oakland Detox: waitlisted",
        "Outcome of detox at Oakland Detox: connected",
        "Outcome of service referral: completed",
    ]
    assert history[1].actor.role == "system" and history[2].actor == CM_ACTOR


def test_free_text_notes_stay_in_their_records_not_in_the_lines() -> None:
    lines = " ".join(h.summary for h in history_of(EVENTS))
    for note in ("talked about her sister", "Tuesdays", "first visit went well"):
        assert note not in lines

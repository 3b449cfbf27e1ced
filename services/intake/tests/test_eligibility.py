"""The placeholder policy: a referral is eligible only through a door the site opened."""

from datetime import UTC, date, datetime
from uuid import uuid4

from intake.domain.eligibility import evaluate
from intake.domain.referral import SubmitReferral, receive_referral
from offramp_contracts.events.base import StaffRef
from offramp_contracts.events.intake import Offence, Person

OPEN = frozenset({"arrest_diversion", "social_contact"})


def test_a_referral_through_an_open_door_is_eligible_with_a_reason() -> None:
    decision, rules = evaluate("arrest_diversion", OPEN)
    assert decision == "eligible"
    assert [(r.rule, r.outcome) for r in rules] == [("door_open", "passed")]
    assert "arrest_diversion" in rules[0].reason


def test_a_referral_through_a_closed_door_is_ineligible_and_says_which_doors_are_open() -> None:
    decision, rules = evaluate("community", OPEN)
    assert decision == "ineligible"
    assert rules[0].outcome == "failed"
    assert "arrest_diversion, social_contact" in rules[0].reason


def test_receiving_a_referral_yields_the_referral_and_its_decision_for_the_same_person() -> None:
    officer = StaffRef(subject="officer-17", agency="oakland-sheriff")
    command = SubmitReferral(
        referral_id=uuid4(),
        door="social_contact",
        person=Person(given_name="Sam", family_name="Rivera", date_of_birth=date(1990, 4, 2)),
        offence=Offence(category="trespass", occurred_at=datetime(2026, 1, 1, tzinfo=UTC)),
        referring_officer=officer,
    )
    received, decided = receive_referral(command, open_doors=OPEN, policy_version="p-1")
    assert received.referral_id == decided.referral_id == command.referral_id
    assert decided.referring_officer == officer
    assert decided.door == "social_contact"
    assert decided.policy_version == received.policy_version == "p-1"
    # The decision carries no personal details: casework opens cases from it alone.
    assert "person" not in decided.model_dump()

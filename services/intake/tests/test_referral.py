"""A referral's decisions: what each command yields, and what it refuses, as a fold of events."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from intake.domain.capacity import Waiting, admission_order, next_admissions
from intake.domain.referral import (
    Referral,
    Refused,
    Status,
    SubmitReferral,
    evolve,
    fold,
    place,
    receive,
    review,
    withdraw,
)
from offramp_contracts import EventPayload
from offramp_contracts.events.base import StaffRef
from offramp_contracts.events.intake import (
    EligibilityDecided,
    Offence,
    Person,
    ReferralAdmitted,
    ReferralWaitlisted,
    Screening,
)
from servicekit.profiles import load_profiles

PROFILES = load_profiles(Path(__file__).resolve().parents[3] / "deploy" / "profiles")
PILOT = PROFILES.in_force("pontiac", date(2026, 11, 1))
COUNTY = PROFILES.in_force("oakland-county", date(2026, 11, 1))
OFFICER = StaffRef(subject="officer-17", agency="pontiac-pd")
PROSECUTOR = StaffRef(subject="ada-2", agency="oakland-prosecutor")


def command(**changes: object) -> SubmitReferral:
    base = SubmitReferral(
        referral_id=uuid4(),
        door="arrest_diversion",
        source="law_enforcement",
        person=Person(given_name="Sam", family_name="Rivera", date_of_birth=date(1990, 4, 2)),
        offence=Offence(category="trespass", occurred_at=datetime(2026, 10, 1, tzinfo=UTC)),
        screening=Screening(),
        referring_officer=OFFICER,
    )
    # Each test changes a field to a value of its own type; `changes` cannot say which.
    return replace(base, **changes)  # type: ignore[arg-type]


def submitted(**changes: object) -> tuple[Referral, EligibilityDecided]:
    received, decided = receive(command(**changes), PILOT, judged_on=date(2026, 11, 1))
    state = fold([received, decided])
    assert state is not None
    return state, decided


def test_a_referral_records_the_profile_version_it_was_decided_under() -> None:
    received, decided = receive(command(), PILOT, judged_on=date(2026, 11, 1))
    assert received.policy_version == decided.policy_version == PILOT.version
    assert received.referral_id == decided.referral_id
    # The decision carries no personal details: other contexts act on it alone.
    assert "person" not in decided.model_dump() and "screening" not in decided.model_dump()


def test_a_door_the_site_has_not_opened_is_refused_not_judged() -> None:
    with pytest.raises(Refused, match="does not take community referrals") as refused:
        receive(command(door="community"), PILOT, judged_on=date(2026, 11, 1))
    assert refused.value.kind == "door-closed"


@pytest.mark.parametrize("source", ["self", "family_or_friend"])
def test_self_and_family_referrals_only_where_the_site_allows_them(source: str) -> None:
    with pytest.raises(Refused) as refused:
        receive(command(door="community", source=source), PILOT, judged_on=date(2026, 11, 1))
    assert refused.value.kind in {"door-closed", "source-not-allowed"}
    with pytest.raises(Refused, match="does not accept referrals from source") as refused:
        receive(command(door="social_contact", source=source), PILOT, judged_on=date(2026, 11, 1))
    received, _ = receive(
        command(door="community", source=source), COUNTY, judged_on=date(2026, 11, 1)
    )
    assert received.source == source


def test_a_prosecutors_approval_makes_the_referral_eligible_keeping_the_rules_explanations() -> (
    None
):
    state, sent = submitted()
    assert state.status == "awaiting_review"
    reviewed, decided = review(
        state, verdict="approved", reason="first offence", reviewer=PROSECUTOR, rules=sent
    )
    assert reviewed.reviewer == PROSECUTOR
    assert decided.decision == "eligible" and decided.decided_by == "prosecutor"
    assert decided.rules == sent.rules
    assert evolve(evolve(state, reviewed), decided).status == "eligible"


def test_a_prosecutors_decline_makes_the_referral_ineligible() -> None:
    state, sent = submitted()
    _, decided = review(
        state, verdict="declined", reason="pending case", reviewer=PROSECUTOR, rules=sent
    )
    assert decided.decision == "ineligible"


def test_a_referral_is_reviewed_only_once() -> None:
    state, sent = submitted()
    reviewed, decided = review(
        state, verdict="approved", reason="ok", reviewer=PROSECUTOR, rules=sent
    )
    after = fold([*history(state, sent), reviewed, decided])
    assert after is not None
    with pytest.raises(Refused, match="not awaiting review"):
        review(after, verdict="declined", reason="changed my mind", reviewer=PROSECUTOR, rules=sent)


def history(state: Referral, decided: EligibilityDecided) -> list[EventPayload]:
    received, _ = receive(
        command(referral_id=state.referral_id), PILOT, judged_on=date(2026, 11, 1)
    )
    return [received, decided]


def test_an_eligible_referral_is_admitted_when_there_is_a_place_and_waitlisted_when_not() -> None:
    state, _ = submitted(
        door="social_contact",
        screening=Screening(
            **{k: False for k in Screening.model_fields if not k.startswith("prior_area_activity")},
            prior_area_activity_verified=True,
            prior_area_activity_on=date(2026, 1, 1),
            prior_area_activity_place="48341",
        ),
    )
    assert state.status == "eligible"
    admitted = place(state, has_place=True)
    assert isinstance(admitted, ReferralAdmitted) and not admitted.from_waitlist
    waitlisted = place(state, has_place=False)
    assert isinstance(waitlisted, ReferralWaitlisted)
    later = place(evolve(state, waitlisted), has_place=True)
    assert isinstance(later, ReferralAdmitted) and later.from_waitlist


@pytest.mark.parametrize("status", ["awaiting_review", "eligible", "waitlisted"])
def test_a_referral_can_be_withdrawn_before_its_case_opens(status: Status) -> None:
    state, _ = submitted()
    withdrawn = withdraw(replace(state, status=status), by=OFFICER, reason="wrong person")
    assert withdrawn.withdrawn_by == OFFICER
    assert evolve(state, withdrawn).status == "withdrawn"


@pytest.mark.parametrize(
    ("status", "why"),
    [
        ("admitted", "ask the case manager"),
        ("withdrawn", "already withdrawn"),
        ("ineligible", "ineligible"),
    ],
)
def test_a_referral_cannot_be_withdrawn_once_its_case_is_open_or_it_is_over(
    status: Status, why: str
) -> None:
    state, _ = submitted()
    with pytest.raises(Refused, match=why):
        withdraw(replace(state, status=status), by=OFFICER, reason="x")


def test_the_waitlist_puts_arrest_diversions_first_then_social_contacts_then_community() -> None:
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    social_early = Waiting(uuid4(), "social_contact", t0)
    community = Waiting(uuid4(), "community", t0 - timedelta(days=3))
    arrest_late = Waiting(uuid4(), "arrest_diversion", t0 + timedelta(hours=5))
    arrest_early = Waiting(uuid4(), "arrest_diversion", t0 + timedelta(hours=1))
    social_late = Waiting(uuid4(), "social_contact", t0 + timedelta(days=1))
    queue = [social_late, community, arrest_late, social_early, arrest_early]

    assert admission_order(queue) == [
        arrest_early,
        arrest_late,
        social_early,
        social_late,
        community,
    ]
    assert next_admissions(queue, 2) == [arrest_early, arrest_late]
    assert next_admissions(queue, 0) == []
    assert next_admissions(queue, -1) == []
    assert len(next_admissions(queue, 10)) == 5


COUNTY_CASE_MANAGER = StaffRef(subject="cm-9", agency="oakland-community-health")


def test_a_community_referrer_the_profile_names_enters_a_community_referral() -> None:
    received, _ = receive(
        command(
            door="community",
            source="community_partner",
            referring_officer=COUNTY_CASE_MANAGER,
            entered_as="case_manager",
        ),
        COUNTY,
        judged_on=date(2026, 11, 1),
    )
    assert received.door == "community" and received.source == "community_partner"


@pytest.mark.parametrize(
    ("changes", "kind"),
    [
        ({"door": "arrest_diversion", "source": "self"}, "door-not-yours"),
        ({"door": "social_contact", "source": "self"}, "door-not-yours"),
        ({"door": "community", "source": "law_enforcement"}, "source-not-yours"),
        (
            {
                "door": "community",
                "source": "self",
                "referring_officer": StaffRef(subject="cm-1", agency="pontiac-case-management"),
            },
            "not-a-referrer",
        ),
        ({"door": "community", "source": "self", "entered_as": "supervisor"}, "not-a-referrer"),
    ],
    ids=["arrest", "social contact", "as law enforcement", "other agency", "role not named"],
)
def test_a_community_referrer_enters_nothing_but_community_referrals(
    changes: dict[str, object], kind: str
) -> None:
    base: dict[str, object] = {
        "referring_officer": COUNTY_CASE_MANAGER,
        "entered_as": "case_manager",
    }
    with pytest.raises(Refused) as refused:
        receive(command(**{**base, **changes}), COUNTY, judged_on=date(2026, 11, 1))
    assert refused.value.kind == kind


def test_no_one_but_officers_refers_at_a_site_without_community_referrers() -> None:
    with pytest.raises(Refused) as refused:
        receive(
            command(door="social_contact", entered_as="case_manager"),
            PILOT,
            judged_on=date(2026, 11, 1),
        )
    assert refused.value.kind == "not-a-referrer"
    assert "referrals come from law enforcement" in refused.value.detail

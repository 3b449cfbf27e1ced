"""Every eligibility rule, judged under both shipped site profiles, with its unknowns.

Each row of the table changes one thing about a referral every rule passes and says what the
rule concerned must then say under the Pontiac pilot and under Oakland County."""

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from intake.domain.eligibility import PROSECUTOR_APPROVAL, Candidate, evaluate
from offramp_contracts.events.intake import Offence, Person, Screening
from offramp_contracts.profile import RULE_NAMES, SiteProfile
from servicekit.profiles import load_profiles

PROFILES = load_profiles(Path(__file__).resolve().parents[3] / "deploy" / "profiles")
PILOT = PROFILES.in_force("pontiac", date(2026, 11, 1))
COUNTY = PROFILES.in_force("oakland-county", date(2026, 11, 1))
BOTH = {"pilot": PILOT, "county": COUNTY}
JUDGED_ON = date(2026, 11, 1)

CLEAR = Candidate(
    door="social_contact",
    person=Person(given_name="Sam", family_name="Rivera", date_of_birth=date(1990, 4, 2)),
    offence=Offence(
        category="drug_possession",
        occurred_at=datetime(2026, 10, 31, 22, 0, tzinfo=UTC),
        drug_quantity_grams=Decimal("1.0"),
    ),
    screening=Screening(
        prior_violent_felony=False,
        exploits_minors=False,
        promotes_prostitution=False,
        dealing_above_subsistence=False,
        confidential_informant=False,
        pending_drug_court_case=False,
        pending_mental_health_court_case=False,
        no_contact_order_with_participant=False,
        complainant_objects=False,
        prior_area_activity_verified=True,
        prior_area_activity_on=date(2026, 6, 1),
        prior_area_activity_place="48342",
    ),
    judged_on=JUDGED_ON,
)


def with_screening(**answers: Any) -> Candidate:
    return replace(CLEAR, screening=CLEAR.screening.model_copy(update=answers))


def with_offence(**fields: Any) -> Candidate:
    return replace(CLEAR, offence=CLEAR.offence.model_copy(update=fields))


def born(day: date) -> Candidate:
    return replace(CLEAR, person=CLEAR.person.model_copy(update={"date_of_birth": day}))


# (rule, what changes, outcome under the pilot, outcome under the county, words in the reason)
TABLE: list[tuple[str, Candidate, str, str, str]] = [
    (
        "drug_quantity",
        with_offence(drug_quantity_grams=Decimal("2.5")),
        "passed",
        "passed",
        "within",
    ),
    ("drug_quantity", with_offence(drug_quantity_grams=Decimal("3")), "passed", "passed", "within"),
    ("drug_quantity", with_offence(drug_quantity_grams=Decimal("4")), "failed", "passed", "4 g"),
    (
        "drug_quantity",
        with_offence(drug_quantity_grams=Decimal("6.5")),
        "failed",
        "failed",
        "above",
    ),
    ("drug_quantity", with_offence(drug_quantity_grams=None), "unknown", "unknown", "not recorded"),
    (
        "drug_quantity",
        with_offence(category="trespass", drug_quantity_grams=None),
        "passed",
        "passed",
        "no drugs",
    ),
    (
        "prior_violent_felony",
        with_screening(prior_violent_felony=True),
        "failed",
        "failed",
        "violent felony",
    ),
    (
        "prior_violent_felony",
        with_screening(prior_violent_felony=None),
        "unknown",
        "unknown",
        "not answered",
    ),
    ("exploits_minors", with_screening(exploits_minors=True), "failed", "failed", "minors"),
    ("exploits_minors", with_screening(exploits_minors=None), "unknown", "unknown", "not answered"),
    (
        "promotes_prostitution",
        with_screening(promotes_prostitution=True),
        "failed",
        "failed",
        "prostitution",
    ),
    (
        "promotes_prostitution",
        with_screening(promotes_prostitution=None),
        "unknown",
        "unknown",
        "not answered",
    ),
    (
        "dealing_above_subsistence",
        with_screening(dealing_above_subsistence=True),
        "failed",
        "failed",
        "subsistence",
    ),
    (
        "dealing_above_subsistence",
        with_screening(dealing_above_subsistence=None),
        "unknown",
        "unknown",
        "not answered",
    ),
    ("under_18", born(date(2009, 1, 1)), "failed", "failed", "was 17"),
    ("under_18", born(date(2008, 10, 31)), "passed", "passed", "was 18"),
    ("under_18", born(date(2008, 11, 1)), "failed", "failed", "was 17"),
    (
        "confidential_informant",
        with_screening(confidential_informant=True),
        "failed",
        "failed",
        "never eligible",
    ),
    (
        "confidential_informant",
        with_screening(confidential_informant=None),
        "unknown",
        "unknown",
        "not answered",
    ),
    (
        "pending_specialty_court",
        with_screening(pending_drug_court_case=True),
        "failed",
        "failed",
        "drug court",
    ),
    (
        "pending_specialty_court",
        with_screening(pending_mental_health_court_case=True),
        "failed",
        "failed",
        "mental-health court",
    ),
    (
        "pending_specialty_court",
        with_screening(pending_drug_court_case=None),
        "unknown",
        "unknown",
        "drug court",
    ),
    (
        "pending_specialty_court",
        with_screening(pending_mental_health_court_case=None),
        "unknown",
        "unknown",
        "mental-health",
    ),
    (
        "no_contact_order",
        with_screening(no_contact_order_with_participant=True),
        "failed",
        "failed",
        "no-contact order",
    ),
    (
        "no_contact_order",
        with_screening(no_contact_order_with_participant=None),
        "unknown",
        "unknown",
        "not answered",
    ),
    (
        "complainant_objects",
        with_offence(category="theft", drug_quantity_grams=None),
        "passed",
        "passed",
        "does not object",
    ),
    (
        "complainant_objects",
        replace(
            with_offence(category="theft"),
            screening=with_screening(complainant_objects=True).screening,
        ),
        "failed",
        "failed",
        "objects",
    ),
    (
        "complainant_objects",
        replace(
            with_offence(category="theft"),
            screening=with_screening(complainant_objects=None).screening,
        ),
        "unknown",
        "unknown",
        "not answered",
    ),
    (
        "complainant_objects",
        with_screening(complainant_objects=None),
        "passed",
        "passed",
        "not a theft",
    ),
    ("prior_area_activity", CLEAR, "passed", "passed", "2026-06-01"),
    (
        "prior_area_activity",
        with_screening(prior_area_activity_on=date(2024, 11, 1)),
        "passed",
        "passed",
        "2024-11-01",
    ),
    (
        "prior_area_activity",
        with_screening(prior_area_activity_on=date(2024, 10, 31)),
        "failed",
        "failed",
        "verified in the area (48342), but outside the last 24 months: the last was on 2024-10-31",
    ),
    (
        "prior_area_activity",
        with_screening(prior_area_activity_verified=False),
        "failed",
        "failed",
        "not verified: no verified low-level activity in the last 24 months",
    ),
    (
        "prior_area_activity",
        with_screening(prior_area_activity_place="48226"),
        "failed",
        "failed",
        "verified, but outside the programme area: 48226 is not in",
    ),
    (
        "prior_area_activity",
        with_screening(prior_area_activity_place="48327"),
        "failed",
        "passed",
        "48327",
    ),
    (
        "prior_area_activity",
        with_screening(prior_area_activity_place=None),
        "unknown",
        "unknown",
        "where the verified activity took place was not recorded",
    ),
    (
        "prior_area_activity",
        with_screening(prior_area_activity_verified=None),
        "unknown",
        "unknown",
        "not answered",
    ),
    (
        "prior_area_activity",
        with_screening(prior_area_activity_on=None),
        "unknown",
        "unknown",
        "date",
    ),
]


def outcome_of(rule: str, candidate: Candidate, profile: SiteProfile) -> tuple[str, str]:
    (result,) = [r for r in evaluate(candidate, profile).rules if r.rule == rule]
    return result.outcome, result.reason


@pytest.mark.parametrize("site", ["pilot", "county"])
@pytest.mark.parametrize(
    ("rule", "candidate", "pilot", "county", "reason"),
    TABLE,
    ids=[f"{row[0]}-{n}" for n, row in enumerate(TABLE)],
)
def test_each_rule_judges_its_question_under_each_site_profile(
    site: str, rule: str, candidate: Candidate, pilot: str, county: str, reason: str
) -> None:
    outcome, explanation = outcome_of(rule, candidate, BOTH[site])
    assert outcome == (pilot if site == "pilot" else county)
    assert reason in explanation


def test_the_table_covers_every_rule_either_profile_names() -> None:
    named = {rule.rule for profile in BOTH.values() for rule in profile.rules}
    assert named == set(RULE_NAMES)
    assert {row[0] for row in TABLE} == named


@pytest.mark.parametrize("site", ["pilot", "county"])
def test_every_rule_comes_out_passed_failed_or_unknown_with_a_reason(site: str) -> None:
    for candidate in [row[1] for row in TABLE]:
        for result in evaluate(candidate, BOTH[site]).rules:
            assert result.outcome in {"passed", "failed", "unknown"}
            assert result.reason


def test_a_clear_social_contact_is_eligible_at_both_sites() -> None:
    assert evaluate(CLEAR, PILOT).decision == "eligible"
    assert evaluate(CLEAR, COUNTY).decision == "eligible"


def test_the_pilot_prosecutor_has_the_final_say_over_a_clear_arrest_diversion() -> None:
    arrest = replace(CLEAR, door="arrest_diversion")
    pilot = evaluate(arrest, PILOT)
    assert pilot.decision == "needs_review"
    assert [r.rule for r in pilot.rules if r.outcome != "passed"] == [PROSECUTOR_APPROVAL]
    assert evaluate(arrest, COUNTY).decision == "eligible"


@pytest.mark.parametrize("site", ["pilot", "county"])
def test_an_unanswered_question_sends_the_referral_to_review_never_to_a_silent_pass(
    site: str,
) -> None:
    unanswered = with_screening(confidential_informant=None)
    assert evaluate(unanswered, BOTH[site]).decision == "needs_review"


@pytest.mark.parametrize("site", ["pilot", "county"])
def test_a_failed_rule_makes_the_referral_ineligible_even_with_unknowns(site: str) -> None:
    candidate = with_screening(confidential_informant=True, prior_violent_felony=None)
    assert evaluate(candidate, BOTH[site]).decision == "ineligible"


@pytest.mark.parametrize("site", ["pilot", "county"])
def test_an_empty_screening_is_never_eligible(site: str) -> None:
    for door in ("arrest_diversion", "social_contact"):
        nothing = replace(CLEAR, door=door, screening=Screening())
        assert evaluate(nothing, BOTH[site]).decision == "needs_review"


def test_prior_area_activity_is_asked_only_of_social_contacts() -> None:
    arrest = replace(
        CLEAR,
        door="arrest_diversion",
        screening=Screening(
            **{**CLEAR.screening.model_dump(), "prior_area_activity_verified": None}
        ),
    )
    assert "prior_area_activity" not in [r.rule for r in evaluate(arrest, COUNTY).rules]
    assert evaluate(arrest, COUNTY).decision == "eligible"

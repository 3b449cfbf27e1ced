"""The referral form follows the site profile: only its open doors, only the questions its rules
read, and each question names the screening field its answer goes in."""

from datetime import date
from pathlib import Path

from intake.domain.referral_form import referral_form
from offramp_contracts.events.intake import Screening
from offramp_contracts.profile import SiteProfile
from servicekit.profiles import load_profiles

PROFILES = Path(__file__).resolve().parents[3] / "deploy" / "profiles"


def _profile(jurisdiction: str) -> SiteProfile:
    return load_profiles(PROFILES).in_force(jurisdiction, date(2026, 12, 1))


def test_pontiac_offers_only_its_two_doors_and_names_the_prosecutor_door() -> None:
    form = referral_form(_profile("pontiac"))
    assert form.doors == ("arrest_diversion", "social_contact")
    assert form.prosecutor_approves == ("arrest_diversion",)
    assert str(form.drug_limit_grams) == "3"


def test_every_question_answers_a_screening_field() -> None:
    form = referral_form(_profile("pontiac"))
    fields = {q.field for q in form.questions}
    assert fields <= set(Screening.model_fields)
    assert "pending_drug_court_case" in fields and "confidential_informant" in fields
    assert all(q.text.endswith("?") and q.help for q in form.questions)


def test_a_rule_limited_to_a_door_asks_only_there() -> None:
    form = referral_form(_profile("oakland-county"))
    activity = [q for q in form.questions if q.field.startswith("prior_area_activity")]
    assert activity and all(q.doors == frozenset({"social_contact"}) for q in activity)
    assert form.doors == ("arrest_diversion", "community", "social_contact")


def test_a_site_without_a_rule_asks_nothing_for_it() -> None:
    profile = _profile("pontiac")
    trimmed = profile.model_copy(
        update={"rules": tuple(r for r in profile.rules if r.rule != "complainant_objects")}
    )
    assert "complainant_objects" not in {q.field for q in referral_form(trimmed).questions}


def test_the_place_of_prior_activity_is_asked_in_the_areas_own_unit() -> None:
    profile = _profile("oakland-county")
    assert profile.area is not None
    form = referral_form(profile)
    asked = [q.field for q in form.questions if q.field.startswith("prior_area_activity")]
    assert asked == [
        "prior_area_activity_verified",
        "prior_area_activity_on",
        "prior_area_activity_place",
    ]
    place = next(q for q in form.questions if q.field == "prior_area_activity_place")
    unit = {"precinct": "precinct", "beat": "beat", "zip_code": "ZIP code"}[profile.area.unit]
    assert place.kind == "text" and unit in place.help

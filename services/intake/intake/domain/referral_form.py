"""What an officer is asked when referring under a site's profile: the open doors, and for each
rule only the screening questions it reads, in plain language. Pure: built from the profile.

The questions are keyed by the `Screening` field they answer, so a form built from this sends
exactly what `eligibility.judge` reads; a rule that a site does not name asks nothing.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from offramp_contracts.events.base import Door
from offramp_contracts.profile import (
    DrugQuantityLimit,
    EligibilityRule,
    ProgrammeArea,
    SiteProfile,
)

Answer = Literal["yes_no", "date", "text"]


@dataclass(frozen=True)
class Question:
    field: str
    text: str
    help: str
    doors: frozenset[Door] | None
    kind: Answer = "yes_no"


@dataclass(frozen=True)
class ReferralForm:
    jurisdiction: str
    site_name: str
    policy_version: str
    doors: tuple[Door, ...]
    prosecutor_approves: tuple[Door, ...]
    drug_limit_grams: Decimal | None
    questions: tuple[Question, ...]


# The questions each rule needs, with help an officer can read at the roadside.
_ASKS: dict[str, tuple[tuple[str, str, str, Answer], ...]] = {
    "prior_violent_felony": (
        (
            "prior_violent_felony",
            "Has the person been convicted of a violent felony?",
            "Check the records system; answer no only if you checked.",
            "yes_no",
        ),
    ),
    "exploits_minors": (
        (
            "exploits_minors",
            "Is the person suspected of exploiting minors?",
            "Anyone suspected of exploiting children is not diverted.",
            "yes_no",
        ),
    ),
    "promotes_prostitution": (
        (
            "promotes_prostitution",
            "Is the person suspected of promoting prostitution (pimping)?",
            "Selling sex is not this: this is profiting from others.",
            "yes_no",
        ),
    ),
    "dealing_above_subsistence": (
        (
            "dealing_above_subsistence",
            "Is the person dealing for profit beyond their own subsistence?",
            "Small sales to support one's own use are subsistence.",
            "yes_no",
        ),
    ),
    "confidential_informant": (
        (
            "confidential_informant",
            "Is the person a confidential informant?",
            "LEAD is not an informant programme: informants are never eligible.",
            "yes_no",
        ),
    ),
    "pending_specialty_court": (
        (
            "pending_drug_court_case",
            "Does the person have a pending drug-court case?",
            "A case already in drug court stays there.",
            "yes_no",
        ),
        (
            "pending_mental_health_court_case",
            "Does the person have a pending mental-health-court case?",
            "A case already in mental-health court stays there.",
            "yes_no",
        ),
    ),
    "no_contact_order": (
        (
            "no_contact_order_with_participant",
            "Is there a no-contact order protecting a current participant?",
            "Check for orders naming anyone already in the programme.",
            "yes_no",
        ),
    ),
    "complainant_objects": (
        (
            "complainant_objects",
            "For a theft: does the complainant object to diversion?",
            "Ask the complainant; answer no if there is no complainant.",
            "yes_no",
        ),
    ),
    "prior_area_activity": (
        (
            "prior_area_activity_verified",
            "Have you verified prior low-level activity inside the programme area?",
            "Social contact only: recent activity you or a colleague confirmed.",
            "yes_no",
        ),
        (
            "prior_area_activity_on",
            "When was the most recent verified activity?",
            "The date of the most recent activity you verified.",
            "date",
        ),
        (
            "prior_area_activity_place",
            "Where was that activity?",
            "The {unit} where you verified it: the programme area counts places by {unit}.",
            "text",
        ),
    ),
}

_UNIT = {"precinct": "precinct", "beat": "beat", "zip_code": "ZIP code"}


def questions_for(rule: EligibilityRule, area: ProgrammeArea | None) -> tuple[Question, ...]:
    """The rule's questions; a help text naming a place says the site's unit (a ZIP code, ...)."""
    unit = _UNIT[area.unit] if area else "place"
    return tuple(
        Question(
            field=field, text=text, help=help_text.format(unit=unit), doors=rule.doors, kind=kind
        )
        for field, text, help_text, kind in _ASKS.get(rule.rule, ())
    )


def referral_form(profile: SiteProfile) -> ReferralForm:
    """Only the open doors, and only the questions the profile's rules read (the drug quantity
    and the date of birth are part of the offence and the person, asked always)."""
    limit = next((r.limit_grams for r in profile.rules if isinstance(r, DrugQuantityLimit)), None)
    return ReferralForm(
        jurisdiction=profile.jurisdiction,
        site_name=profile.name,
        policy_version=profile.version,
        doors=tuple(sorted(profile.doors)),
        prosecutor_approves=tuple(sorted(profile.prosecutor_approves)),
        drug_limit_grams=limit,
        questions=tuple(q for rule in profile.rules for q in questions_for(rule, profile.area)),
    )

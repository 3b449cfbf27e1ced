"""Referral bodies for tests over HTTP: one that every rule of the shipped profiles passes, and
ways to change it."""

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

CLEAR_SCREENING: dict[str, Any] = {
    "prior_violent_felony": False,
    "exploits_minors": False,
    "promotes_prostitution": False,
    "dealing_above_subsistence": False,
    "confidential_informant": False,
    "pending_drug_court_case": False,
    "pending_mental_health_court_case": False,
    "no_contact_order_with_participant": False,
    "complainant_objects": False,
    "prior_area_activity_verified": True,
    "prior_area_activity_place": "48342",  # a Pontiac ZIP code, inside both shipped areas
}


def referral_body(door: str = "social_contact", **changes: Any) -> dict[str, Any]:
    """A referral every rule passes (at the pilot, a social contact is eligible outright and an
    arrest diversion waits for the prosecutor). `changes` replace top-level parts; `screening`
    is merged into the clear answers."""
    now = datetime.now(UTC)
    body: dict[str, Any] = {
        "door": door,
        "person": {
            "given_name": "Sam",
            "family_name": "Rivera",
            "date_of_birth": "1990-04-02",
            "race": ["black_or_african_american"],
            "ethnicity": "not_hispanic_or_latino",
        },
        "offence": {
            "category": "drug_possession",
            "description": "small bag of powder",
            "place": "Saginaw St & Pike St",
            "occurred_at": (now - timedelta(hours=1)).isoformat(),
            "drug_quantity_grams": "1.2",
        },
        "screening": {
            **CLEAR_SCREENING,
            "prior_area_activity_on": (date.today() - timedelta(days=90)).isoformat(),
        },
    }
    screening = changes.pop("screening", {})
    body.update(changes)
    body["screening"] = {**body["screening"], **screening}
    return body


def fresh_key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid4())}

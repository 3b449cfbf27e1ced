"""How an event's data at an old schema version becomes the next version's.

Keyed by (event_type, from_version). Old facts are never rewritten: stores, the bus and the
ledger keep the bytes as published, and readers upcast them on the way in.
"""

from collections.abc import Callable, Mapping
from typing import Any

Upcaster = Callable[[Mapping[str, Any]], dict[str, Any]]


def _referral_received_v1_to_v2(data: Mapping[str, Any]) -> dict[str, Any]:
    """v1 had a free-text offence category and no source or screening answers: the category
    becomes `other_low_level` with the old text kept in the description, and every screening
    answer is unanswered."""
    offence = dict(data["offence"])
    old_category = str(offence.pop("category"))
    description = str(offence.get("description", ""))
    offence["category"] = "other_low_level"
    offence["description"] = f"{old_category}: {description}" if description else old_category
    return {**data, "source": "law_enforcement", "offence": offence, "screening": {}}


def _eligibility_decided_v1_to_v2(data: Mapping[str, Any]) -> dict[str, Any]:
    """v1 was only ever decided by the rules."""
    return {**data, "decided_by": "policy"}


def _access_denied_v1_to_v2(data: Mapping[str, Any]) -> dict[str, Any]:
    """v1 recorded every refusal as its own event."""
    return {**data, "count": 1, "first_refused_at": None, "last_refused_at": None}


def _referral_received_v2_to_v3(data: Mapping[str, Any]) -> dict[str, Any]:
    """v2 never said where prior activity was: the place is unknown, so a social contact
    decided under v2 keeps its decision and a fresh judgement would ask for the place."""
    screening = {**data.get("screening", {}), "prior_area_activity_place": None}
    return {**data, "screening": screening}


def _client_became_active_v1_to_v2(data: Mapping[str, Any]) -> dict[str, Any]:
    """Before v2 only a contact after the inactivity began ended it; its date was not kept."""
    return {**data, "reason": "contact_after_inactivity", "contacted_at": None}


UPCASTERS: Mapping[tuple[str, int], Upcaster] = {
    ("ReferralReceived", 1): _referral_received_v1_to_v2,
    ("ReferralReceived", 2): _referral_received_v2_to_v3,
    ("EligibilityDecided", 1): _eligibility_decided_v1_to_v2,
    ("AccessDenied", 1): _access_denied_v1_to_v2,
    ("ClientBecameActive", 1): _client_became_active_v1_to_v2,
}

"""Facts published at an old schema version still read as the current version."""

from collections.abc import Callable
from typing import Any
from uuid import UUID

from offramp_contracts import EventEnvelope, payload_of
from offramp_contracts.events.audit import AccessDenied
from offramp_contracts.events.base import StaffRef
from offramp_contracts.events.casework import CaseOpened
from offramp_contracts.events.intake import EligibilityDecided, ReferralReceived
from offramp_contracts.upcasters import UPCASTERS

EnvelopeOf = Callable[..., EventEnvelope]
REFERRAL = "0195f1a0-0000-7000-8000-000000000002"
OFFICER = {"subject": "officer-17", "agency": "oakland-sheriff"}

# Exactly the shapes the walking skeleton published (contracts/schemas/*.v1.json).
REFERRAL_RECEIVED_V1: dict[str, Any] = {
    "referral_id": REFERRAL,
    "door": "arrest_diversion",
    "person": {"given_name": "Ada", "family_name": "Jones", "date_of_birth": "1990-02-03"},
    "offence": {
        "category": "shoplifting",
        "description": "a sandwich",
        "occurred_at": "2025-03-04T09:00:00Z",
    },
    "referring_officer": OFFICER,
    "policy_version": "placeholder-1",
}
ELIGIBILITY_DECIDED_V1: dict[str, Any] = {
    "referral_id": REFERRAL,
    "decision": "eligible",
    "rules": [{"rule": "door_open", "outcome": "passed", "reason": "the site accepts it"}],
    "door": "arrest_diversion",
    "referring_officer": OFFICER,
    "policy_version": "placeholder-1",
}


def v1(
    envelope_of: EnvelopeOf, case_opened: CaseOpened, event_type: str, data: dict[str, Any]
) -> EventEnvelope:
    return envelope_of(case_opened, event_type=event_type, schema_version=1, data=data)


def test_a_v1_referral_keeps_its_offence_text_and_has_every_screening_answer_unanswered(
    envelope_of: EnvelopeOf, case_opened: CaseOpened
) -> None:
    payload = payload_of(v1(envelope_of, case_opened, "ReferralReceived", REFERRAL_RECEIVED_V1))

    assert isinstance(payload, ReferralReceived)
    assert payload.referral_id == UUID(REFERRAL)
    assert payload.source == "law_enforcement"
    assert payload.offence.category == "other_low_level"
    assert payload.offence.description == "shoplifting: a sandwich"
    assert payload.screening.model_dump() == dict.fromkeys(payload.screening.model_dump())
    assert payload.person.family_name == "Jones"
    assert payload.person.ethnicity == "not_recorded"


def test_a_v1_decision_was_made_by_the_rules(
    envelope_of: EnvelopeOf, case_opened: CaseOpened
) -> None:
    payload = payload_of(v1(envelope_of, case_opened, "EligibilityDecided", ELIGIBILITY_DECIDED_V1))

    assert isinstance(payload, EligibilityDecided)
    assert payload.decided_by == "policy"
    assert payload.decision == "eligible"
    assert payload.referring_officer == StaffRef(**OFFICER)


def test_a_v1_refusal_stands_for_one_refusal() -> None:
    v1 = {
        "service": "intake",
        "action": "GET /referrals/{referral_id}",
        "query": "",
        "who": {"subject": "a", "agency": "b", "jurisdiction": "pontiac", "roles": []},
        "records": [],
        "status": 403,
        "reason": "no",
    }
    v2 = AccessDenied.model_validate(UPCASTERS[("AccessDenied", 1)](v1))
    assert (v2.count, v2.first_refused_at, v2.last_refused_at) == (1, None, None)


def test_a_v2_referral_reads_as_v3_with_the_place_of_prior_activity_unknown(
    envelope_of: EnvelopeOf, case_opened: CaseOpened
) -> None:
    v2_data = {
        **REFERRAL_RECEIVED_V1,
        "source": "law_enforcement",
        "offence": {"category": "trespass", "occurred_at": "2025-03-04T09:00:00Z"},
        "screening": {"prior_area_activity_verified": True, "prior_area_activity_on": "2025-01-02"},
    }
    payload = payload_of(
        envelope_of(case_opened, event_type="ReferralReceived", schema_version=2, data=v2_data)
    )

    assert isinstance(payload, ReferralReceived)
    assert payload.screening.prior_area_activity_verified is True
    assert payload.screening.prior_area_activity_place is None

"""The Golden Rule in notify: what officers and prosecutors are told is built from coarse facts
only, so nothing learned in care can reach them, whatever an event carries."""

from typing import Any
from uuid import uuid4

from hypothesis import given
from hypothesis import strategies as st

from notify.domain.coarse import ALLOWED_FIELDS, coarse_facts
from notify.domain.triggers import (
    LAW_ENFORCEMENT,
    TRIGGERS,
    WIRED,
    Parties,
    Recipient,
    notifications_for,
)
from offramp_contracts.events.consent import ConsentGranted, ConsentRevoked, InformationDisclosed

PARTIES = Parties(
    referring_officer=Recipient(agency="pontiac-pd", subject="officer-17"),
    case_manager=Recipient(agency="pontiac-case-management", subject="cm-1"),
    prosecutor_agency="oakland-prosecutor",
    case_management_agency="pontiac-case-management",
)
CLINICAL = "relapsed-on-heroin-bipolar-disorder"

# Fields casework's events carry that were learned in care, or that say more than the coarse
# status (NonComplianceReported.details and .condition, CaseClosed.reason, assessments, notes).
CARE_FIELDS = (
    "details",
    "condition",
    "reason",
    "notes",
    "assessment",
    "needs",
    "description",
    "service",
    "provider",
    "substances",
    "diagnosis",
    "location",
)


def test_the_allow_list_holds_identifiers_dates_and_coarse_categories_only() -> None:
    # Widening it is a Golden Rule decision: this test makes it a deliberate one.
    assert ALLOWED_FIELDS == {
        "referral_id",
        "case_id",
        "decision",
        "decided_by",
        "coarse_status",
        "report_number",
        "window_ended_at",
        "arrested_on",
        "door",
        "within_intake_window",
    }
    assert not ALLOWED_FIELDS & set(CARE_FIELDS)


def _told(event_type: str, data: dict[str, Any]) -> str:
    notes = notifications_for(event_type, coarse_facts(data), PARTIES)
    assert notes, f"{event_type} told nobody"
    return "\n".join(f"{n.text.subject}\n{n.text.body}" for n in notes)


def test_non_compliance_details_never_reach_the_officer_or_the_prosecutor() -> None:
    data = {"case_id": str(uuid4()), "condition": "no heroin use", "details": CLINICAL}
    said = _told("NonComplianceReported", data)
    assert CLINICAL not in said and "heroin" not in said


@given(
    event_type=st.sampled_from(sorted(TRIGGERS)),
    extra=st.dictionaries(
        st.sampled_from(CARE_FIELDS),
        st.text(min_size=6, max_size=40).map(lambda s: f"{CLINICAL}:{s}"),
        min_size=1,
    ),
)
def test_no_field_outside_the_allow_list_changes_a_single_word(
    event_type: str, extra: dict[str, str]
) -> None:
    base = {
        "referral_id": "0b7a3a36-0f3e-4c8f-a1a4-8d1a5a9f3c11",
        "case_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
        "decision": "needs_review",
        "door": "arrest_diversion",
        "within_intake_window": True,
    }
    plain = _told(event_type, base)
    stuffed = _told(event_type, {**base, **extra})
    assert stuffed == plain
    assert CLINICAL not in stuffed


def test_law_enforcement_is_told_only_coarse_status_words() -> None:
    words = {"working with a case manager", "engaged", "not engaged", "non-compliant", "closed"}
    for event_type, trigger in TRIGGERS.items():
        data = {
            "referral_id": str(uuid4()),
            "case_id": str(uuid4()),
            "decision": "needs_review",
            "door": "arrest_diversion",
            "within_intake_window": True,
        }
        for note in notifications_for(event_type, coarse_facts(data), PARTIES):
            if note.audience not in LAW_ENFORCEMENT or "Status:" not in note.text.body:
                continue
            status = note.text.body.split("Status: ", 1)[1].split(".", 1)[0]
            assert status in words, (event_type, trigger, status)


def test_consent_events_are_not_taken_and_would_give_the_allow_list_only_the_case_id() -> None:
    # Releases and disclosures are the case-management agency's records; they tell nobody
    # anything. Were one ever wired, the allow-list would find nothing in it but the case id.
    consent = (ConsentGranted, ConsentRevoked, InformationDisclosed)
    assert not {model.event_type for model in consent} & set(WIRED)
    for model in consent:
        assert set(model.model_fields) & ALLOWED_FIELDS == {"case_id"}, model.event_type

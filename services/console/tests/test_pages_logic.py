"""The console's pure rules: the referral body built from the officer's form, the caseload's
order of what is due, and the words a refusal is shown in."""

from datetime import datetime
from typing import Any

from console.domain.caseload import due_order, what_is_due
from console.domain.messages import readable
from console.domain.referral_body import referral_body

QUESTIONS: list[dict[str, Any]] = [
    {"field": "prior_violent_felony", "kind": "yes_no", "doors": None},
    {"field": "prior_area_activity_verified", "kind": "yes_no", "doors": ["social_contact"]},
    {"field": "prior_area_activity_on", "kind": "date", "doors": ["social_contact"]},
]
PLACE: dict[str, Any] = {
    "field": "prior_area_activity_place",
    "kind": "text",
    "doors": ["social_contact"],
}
FORM = {
    "door": "arrest_diversion",
    "given_name": " Sam ",
    "family_name": "Rivera",
    "date_of_birth": "1990-04-02",
    "category": "drug_possession",
    "occurred_at": "2026-11-24T21:30",
    "place": "Saginaw St",
    "drug_quantity_grams": "1.2",
    "prior_violent_felony": "no",
    "prior_area_activity_verified": "yes",
}


def test_an_answer_left_blank_stays_unanswered_so_the_prosecutor_reviews_it() -> None:
    body = referral_body({**FORM, "prior_violent_felony": ""}, QUESTIONS)
    assert "prior_violent_felony" not in body["screening"]


def test_questions_of_another_door_are_not_sent() -> None:
    body = referral_body(FORM, QUESTIONS)
    assert body["screening"] == {"prior_violent_felony": False}
    social = referral_body({**FORM, "door": "social_contact"}, QUESTIONS)
    assert social["screening"]["prior_area_activity_verified"] is True


def test_the_place_typed_is_sent_and_a_blank_one_stays_unanswered() -> None:
    asked = [*QUESTIONS, PLACE]
    social = {**FORM, "door": "social_contact", "prior_area_activity_place": " 48342 "}
    assert referral_body(social, asked)["screening"]["prior_area_activity_place"] == "48342"
    blank = {**social, "prior_area_activity_place": " "}
    assert "prior_area_activity_place" not in referral_body(blank, asked)["screening"]
    arrest = {**social, "door": "arrest_diversion"}
    assert "prior_area_activity_place" not in referral_body(arrest, asked)["screening"]


def test_the_time_typed_on_the_device_carries_the_devices_offset() -> None:
    body = referral_body(FORM, QUESTIONS, utc_offset_minutes=-300)
    assert body["offence"]["occurred_at"] == "2026-11-24T21:30:00-05:00"
    assert body["person"]["given_name"] == "Sam"
    assert body["offence"]["drug_quantity_grams"] == "1.2"


def test_the_caseload_puts_the_closing_intake_window_first_and_closed_cases_last() -> None:
    cases = [
        {
            "case_id": "closed",
            "status": "closed",
            "phase": "closed",
            "opened_at": "2026-01-01T00:00:00Z",
        },
        {
            "case_id": "quiet",
            "status": "engaged",
            "phase": "enrolled",
            "opened_at": "2026-02-01T00:00:00Z",
            "last_contact_at": "2026-03-01T00:00:00Z",
        },
        {
            "case_id": "later",
            "status": "engaged",
            "phase": "intake",
            "opened_at": "2026-03-01T00:00:00Z",
            "intake_deadline": "2026-03-15T00:00:00Z",
        },
        {
            "case_id": "soon",
            "status": "engaged",
            "phase": "intake",
            "opened_at": "2026-03-02T00:00:00Z",
            "intake_deadline": "2026-03-10T00:00:00+00:00",
        },
        {
            "case_id": "recent",
            "status": "engaged",
            "phase": "enrolled",
            "opened_at": "2026-02-01T00:00:00Z",
            "last_contact_at": "2026-03-05T00:00:00Z",
        },
    ]
    assert [c["case_id"] for c in due_order(cases)] == [
        "soon",
        "later",
        "quiet",
        "recent",
        "closed",
    ]


def test_each_case_says_what_is_due_in_words() -> None:
    now = datetime(2026, 3, 8)
    assert what_is_due({"phase": "intake", "intake_deadline": "2026-03-10T00:00:00Z"}, now) == (
        "Intake assessment due in 2 days"
    )
    assert what_is_due({"phase": "intake", "intake_deadline": "2026-03-01T00:00:00Z"}, now) == (
        "Intake window has closed"
    )
    assert what_is_due({"phase": "enrolled", "last_contact_at": "2026-03-01T00:00:00Z"}, now) == (
        "Last contact 7 days ago"
    )


def test_a_refusal_reads_as_its_title_and_detail() -> None:
    problem = {"title": "No such case", "detail": "There is no case 123.", "status": 404}
    assert readable(404, problem) == "No such case. There is no case 123."


def test_an_invalid_form_names_each_field_in_words() -> None:
    problem = {
        "title": "The request is not valid",
        "detail": "Correct the fields listed in 'errors' and send the request again.",
        "errors": [
            {
                "location": "body.person.date_of_birth",
                "message": "the date of birth cannot be in the future",
            }
        ],
    }
    assert readable(422, problem) == (
        "The request is not valid. the person date of birth: the date of birth cannot be in the future."
    )


def test_an_answer_that_is_no_problem_document_still_reads_as_words() -> None:
    assert readable(502, "<html>bad gateway</html>") == (
        "The service could not answer just now. Please try again in a moment."
    )

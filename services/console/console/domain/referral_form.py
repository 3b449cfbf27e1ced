"""The referral form's questions as the officer is asked them. Pure.

Intake's form asks whether prior activity inside the programme area was verified and when, but
not where; yet its rule reads `prior_area_activity_place` too, and a referral without it can
only be `unknown` (so every social contact waits for the prosecutor). Until intake's form asks
it, the console asks it beside the other two, for the same doors; once intake asks it itself,
nothing is added."""

from typing import Any

PLACE = "prior_area_activity_place"
AFTER = "prior_area_activity_on"

PLACE_QUESTION: dict[str, Any] = {
    "field": PLACE,
    "text": "Where was that activity?",
    "help": (
        "The precinct, beat or ZIP code where you verified it, as the site draws its programme "
        "area (for example 48342)."
    ),
    "kind": "text",
}


def with_activity_place(questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if any(q.get("field") == PLACE for q in questions):
        return questions
    asked: list[dict[str, Any]] = []
    for question in questions:
        asked.append(question)
        if question.get("field") == AFTER:
            asked.append({**PLACE_QUESTION, "doors": question.get("doors")})
    return asked

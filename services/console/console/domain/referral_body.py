"""A referral form as the officer filled it in, turned into the body intake takes. Pure.

Screening answers are `yes`, `no` or left blank (dates and places are typed); a blank stays
unanswered (null), which sends the referral to the prosecutor's review instead of letting a rule
pass unasked."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

ANSWERS = {"yes": True, "no": False}
PERSON_FIELDS = ("given_name", "family_name", "date_of_birth")
OFFENCE_FIELDS = ("category", "place", "description")


def referral_body(
    fields: Mapping[str, str], questions: list[dict[str, Any]], utc_offset_minutes: int = 0
) -> dict[str, Any]:
    door = fields.get("door", "")
    person = {name: fields.get(name, "").strip() for name in PERSON_FIELDS}
    offence: dict[str, Any] = {name: fields.get(name, "").strip() for name in OFFENCE_FIELDS}
    offence["occurred_at"] = _instant(fields.get("occurred_at", ""), utc_offset_minutes)
    grams = fields.get("drug_quantity_grams", "").strip()
    if grams:
        offence["drug_quantity_grams"] = grams
    screening: dict[str, Any] = {}
    for question in questions:
        doors = question.get("doors")
        if doors is not None and door not in doors:
            continue
        answer = fields.get(question["field"], "").strip()
        if question.get("kind") in ("date", "text"):
            if answer:
                screening[question["field"]] = answer
        elif answer in ANSWERS:
            screening[question["field"]] = ANSWERS[answer]
    return {"door": door, "person": person, "offence": offence, "screening": screening}


def _instant(local: str, utc_offset_minutes: int) -> str:
    """`2026-11-24T21:30` typed on the officer's device, with the device's offset from UTC."""
    text = local.strip()
    if not text:
        return ""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text  # intake names the field and says what it needs
    if moment.tzinfo is not None:
        return moment.isoformat()
    sign = "+" if utc_offset_minutes >= 0 else "-"
    hours, minutes = divmod(abs(utc_offset_minutes), 60)
    return moment.isoformat() + f"{sign}{hours:02d}:{minutes:02d}"

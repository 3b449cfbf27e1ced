"""What a person reads when a service refuses: the problem document's title and detail, and for
a form each field's complaint in words, never the raw JSON."""

from typing import Any

FIELD_WORDS = {
    "person": "the person",
    "offence": "the offence",
    "screening": "the screening questions",
    "body": "the form",
}


def readable(status: int, problem: Any) -> str:
    if not isinstance(problem, dict):
        return _fallback(status)
    title = str(problem.get("title") or "").strip()
    detail = str(problem.get("detail") or "").strip()
    errors = problem.get("errors")
    parts = [p for p in (title, detail) if p]
    if isinstance(errors, list) and errors:
        complaints = [c for c in (_complaint(e) for e in errors[:8]) if c]
        if complaints:
            parts = [title or "Some answers need another look", *complaints]
    text = ". ".join(p.rstrip(".") for p in parts)
    return (text + ".") if text else _fallback(status)


def _complaint(error: Any) -> str:
    if isinstance(error, str):
        return error
    if not isinstance(error, dict):
        return ""
    message = str(error.get("msg") or error.get("message") or error.get("detail") or "")
    where = error.get("location") or error.get("loc") or error.get("field")
    if isinstance(where, str):
        where = where.split(".")
    if isinstance(where, list):
        words = [FIELD_WORDS.get(str(w), str(w).replace("_", " ")) for w in where if w != "body"]
        where = " ".join(words)
    return f"{where}: {message}" if where and message else message


def _fallback(status: int) -> str:
    if status == 401:
        return "Your sign-in is no longer valid. Please sign in again."
    if status == 403:
        return "Your role does not allow this."
    if status == 404:
        return "Nothing was found there: it may not exist, or it is not yours to see."
    if status >= 500:
        return "The service could not answer just now. Please try again in a moment."
    return "The service refused this request."

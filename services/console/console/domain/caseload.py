"""A case manager's caseload in the order of what is due (DESIGN.md rules 4 and 5): open cases
whose intake window closes first, then those longest without contact, closed cases last. Pure."""

from datetime import datetime, timedelta
from typing import Any

FAR = datetime.max.replace(tzinfo=None)


def _instant(value: Any) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment.replace(tzinfo=None) - (moment.utcoffset() or timedelta(0))


def due_order(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def key(case: dict[str, Any]) -> tuple[int, datetime]:
        if case.get("status") == "closed" or case.get("phase") == "closed":
            return (3, _instant(case.get("opened_at")) or FAR)
        deadline = _instant(case.get("intake_deadline"))
        if case.get("phase") == "intake" and deadline is not None:
            return (0, deadline)
        last = _instant(case.get("last_contact_at")) or _instant(case.get("opened_at")) or FAR
        return (1, last)

    return sorted(cases, key=key)


def what_is_due(case: dict[str, Any], now: datetime) -> str:
    """One line for the caseload: the next thing this case needs."""
    if case.get("status") == "closed" or case.get("phase") == "closed":
        return "Closed"
    deadline = _instant(case.get("intake_deadline"))
    if case.get("phase") == "intake" and deadline is not None:
        days = (deadline - now).total_seconds() / 86400
        if days < 0:
            return "Intake window has closed"
        return f"Intake assessment due in {days:.0f} days" if days >= 1 else "Intake due today"
    last = _instant(case.get("last_contact_at"))
    if last is None:
        return "No contact recorded yet"
    return f"Last contact {max(0, (now - last).days)} days ago"

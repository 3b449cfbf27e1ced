"""The outcomes reports as the analyst's page shows them: each cell as words (a count with its
share, a statistic, or "suppressed"), and each table's chart series, where a suppressed cell is
a gap, never a zero. Pure."""

from dataclasses import dataclass
from typing import Any

REPORTS: tuple[tuple[str, str], ...] = (
    ("equity", "Equity"),
    ("rearrest", "Re-arrest"),
)
SUPPRESSED = "suppressed"


@dataclass(frozen=True)
class Shown:
    text: str
    suppressed: bool
    number: float | None


def cell(data: Any) -> Shown:
    """One cell of a report: suppressed is said so; a missing figure is a dash."""
    if not isinstance(data, dict):
        return Shown("–", False, None)
    if data.get("suppressed"):
        return Shown(SUPPRESSED, True, None)
    count, percent, value = data.get("count"), data.get("percent"), data.get("value")
    if value is not None:
        return Shown(f"{value:g}", False, float(value))
    if count is not None:
        text = f"{count}" + (f" ({percent:.1f}%)" if percent is not None else "")
        return Shown(text, False, float(count))
    return Shown("–", False, None)


def chart_of(table: dict[str, Any]) -> dict[str, Any]:
    """Chart.js data: one bar series per column, one bar per group, `null` where suppressed."""
    columns = [str(c) for c in table.get("columns", [])]
    rows = table.get("rows", [])
    return {
        "labels": [str(r.get("group", "")) for r in rows],
        "datasets": [
            {
                "label": column.replace("_", " "),
                "data": [cell(r.get("cells", {}).get(column)).number for r in rows],
            }
            for column in columns
        ],
    }

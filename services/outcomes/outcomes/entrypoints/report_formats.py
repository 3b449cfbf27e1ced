"""A report as JSON (what the console charts) and as CSV (one row per cell), the same figures
in both, with what was suppressed and why."""

import csv
import io
from typing import Any

from pydantic import BaseModel, Field

from outcomes.domain.reports import Report
from outcomes.domain.suppression import REASONS

SUPPRESSION_RULE = (
    "Counts from 1 to {threshold} are suppressed, and so is any other count from which a "
    "suppressed one could be recomputed (through the other counts, the totals or the shares); a "
    "share is shown only where its count and its denominator are; a statistic only where its "
    "group's n is."
)
CSV_COLUMNS = (
    "report", "jurisdiction", "as_known_on", "period_from", "period_to", "door", "table",
    "breakdown", "unit", "group", "column", "count", "percent", "value", "suppressed",
)  # fmt: skip


class CellOut(BaseModel):
    count: int | None = None
    percent: float | None = Field(default=None, description="Of the row's or column's total.")
    value: float | None = Field(default=None, description="A statistic (median, rate, %).")
    suppressed: str | None = Field(
        default=None, description="small_cell, complementary or small_group; null if shown."
    )


class RowOut(BaseModel):
    group: str
    cells: dict[str, CellOut]


class TableOut(BaseModel):
    name: str
    title: str
    breakdown: str
    kind: str
    unit: str
    percent_of: str
    columns: list[str]
    rows: list[RowOut]


class SuppressionOut(BaseModel):
    table: str
    breakdown: str
    group: str
    column: str
    reason: str


class ReportOut(BaseModel):
    report: str
    jurisdiction: str
    as_known_on: str
    period_from: str | None
    period_to: str | None
    door: str | None
    threshold: int
    suppression_rule: str
    reasons: dict[str, str]
    tables: list[TableOut]
    suppressed: list[SuppressionOut]


def as_json(report: Report) -> ReportOut:
    q = report.query
    tables = [
        TableOut(
            name=t.name,
            title=t.title,
            breakdown=t.breakdown,
            kind=t.kind,
            unit=t.unit,
            percent_of=t.percent_of,
            columns=list(t.columns),
            rows=[
                RowOut(
                    group=g,
                    cells={c: CellOut(**t.cells[(g, c)].__dict__) for c in t.columns},
                )
                for g in t.groups
            ],
        )
        for t in report.tables
    ]
    suppressed = [
        SuppressionOut(table=t.name, breakdown=t.breakdown, group=s.group, column=s.column,
                       reason=s.reason)
        for t in report.tables
        for s in t.suppressions
    ]  # fmt: skip
    return ReportOut(
        report=q.report,
        jurisdiction=q.jurisdiction,
        as_known_on=q.as_known_on.isoformat(),
        period_from=q.period_from.isoformat() if q.period_from else None,
        period_to=q.period_to.isoformat() if q.period_to else None,
        door=q.door,
        threshold=q.threshold,
        suppression_rule=SUPPRESSION_RULE.format(threshold=q.threshold),
        reasons={**REASONS, "small_group": "its group's n is suppressed"},
        tables=tables,
        suppressed=suppressed,
    )


def csv_rows(report: Report) -> list[dict[str, Any]]:
    q = report.query
    head = {
        "report": q.report,
        "jurisdiction": q.jurisdiction,
        "as_known_on": q.as_known_on.isoformat(),
        "period_from": q.period_from.isoformat() if q.period_from else "",
        "period_to": q.period_to.isoformat() if q.period_to else "",
        "door": q.door or "",
    }
    rows: list[dict[str, Any]] = []
    for t in report.tables:
        for g in t.groups:
            for c in t.columns:
                cell = t.cells[(g, c)]
                rows.append({
                    **head, "table": t.name, "breakdown": t.breakdown, "unit": t.unit,
                    "group": g, "column": c,
                    "count": "" if cell.count is None else cell.count,
                    "percent": "" if cell.percent is None else cell.percent,
                    "value": "" if cell.value is None else cell.value,
                    "suppressed": cell.suppressed or "",
                })  # fmt: skip
    return rows


def as_csv(reports: list[Report]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for report in reports:
        writer.writerows(csv_rows(report))
    return out.getvalue()

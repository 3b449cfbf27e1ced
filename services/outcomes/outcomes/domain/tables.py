"""Report tables: counts of people (or participant-months) by group and category, with their
totals and shares, and statistics by group; each published with its suppressions applied."""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from outcomes.domain.suppression import REASONS, Line, Reason, percent_shown, suppress

TOTAL = "total"
Breakdown = Literal["race", "ethnicity"]
PercentOf = Literal["row", "column", "none"]
Cellkey = tuple[str, str]


@dataclass(frozen=True)
class CountTable:
    """`partition`: each row's people fall in exactly one column, so a row has a total (and
    shares of it); otherwise a person may count in several columns (the rules they failed),
    and shares are of each column's total over the groups."""

    name: str
    title: str
    breakdown: Breakdown
    groups: tuple[str, ...]
    columns: tuple[str, ...]
    counts: Mapping[Cellkey, int]
    partition: bool = True
    percent_of: PercentOf = "row"
    unit: str = "people"


def count_table(
    name: str,
    title: str,
    breakdown: Breakdown,
    groups: tuple[str, ...],
    columns: tuple[str, ...],
    members: Iterable[Cellkey],
    *,
    partition: bool = True,
    percent_of: PercentOf = "row",
    unit: str = "people",
) -> CountTable:
    return counted_table(
        name, title, breakdown, groups, columns, Counter(members),
        partition=partition, percent_of=percent_of, unit=unit,
    )  # fmt: skip


def counted_table(
    name: str,
    title: str,
    breakdown: Breakdown,
    groups: tuple[str, ...],
    columns: tuple[str, ...],
    counted: Mapping[Cellkey, int],
    *,
    partition: bool = True,
    percent_of: PercentOf = "row",
    unit: str = "people",
) -> CountTable:
    """`count_table` from members already counted (a GROUP BY's rows)."""
    counts = {(g, c): counted.get((g, c), 0) for g in groups for c in columns}
    return CountTable(name, title, breakdown, groups, columns, counts, partition, percent_of, unit)


@dataclass(frozen=True)
class StatTable:
    """A statistic per group, each over `n` people; a group whose n is suppressed has none."""

    name: str
    title: str
    breakdown: Breakdown
    groups: tuple[str, ...]
    statistics: tuple[str, ...]
    n: Mapping[str, int]
    values: Mapping[Cellkey, float | None]
    unit: str = "people"


@dataclass(frozen=True)
class Cell:
    count: int | None = None
    percent: float | None = None
    value: float | None = None
    suppressed: Reason | Literal["small_group"] | None = None


@dataclass(frozen=True)
class Suppression:
    table: str
    group: str
    column: str
    reason: str


@dataclass(frozen=True)
class Published:
    name: str
    title: str
    breakdown: Breakdown
    kind: Literal["counts", "statistics"]
    unit: str
    columns: tuple[str, ...]
    groups: tuple[str, ...]
    cells: Mapping[Cellkey, Cell]
    suppressions: tuple[Suppression, ...] = field(default=())
    percent_of: PercentOf = "none"


def _grid(table: CountTable) -> tuple[tuple[str, ...], tuple[str, ...], dict[Cellkey, int]]:
    rows = (*table.groups, TOTAL)
    with_total = table.partition and len(table.columns) > 1
    columns = (*table.columns, TOTAL) if with_total else table.columns
    values = dict(table.counts)
    for c in table.columns:
        values[(TOTAL, c)] = sum(table.counts[(g, c)] for g in table.groups)
    if with_total:
        for g in rows:
            values[(g, TOTAL)] = sum(values[(g, c)] for c in table.columns)
    return rows, columns, values


def lines_of(table: CountTable) -> list[Line[Cellkey]]:
    rows, columns, _ = _grid(table)
    lines = [Line(tuple((g, c) for g in table.groups), (TOTAL, c)) for c in columns]
    if TOTAL in columns:
        lines += [Line(tuple((g, c) for c in table.columns), (g, TOTAL)) for g in rows]
    return lines


def publish_counts(table: CountTable, threshold: int) -> Published:
    rows, columns, values = _grid(table)
    hidden = suppress(values, lines_of(table), threshold)
    cells: dict[Cellkey, Cell] = {}
    for g in rows:
        for c in columns:
            key = (g, c)
            denominator = _denominator(table, key, columns)
            percent = None
            if denominator is not None and percent_shown(key, denominator, hidden):
                whole = values[denominator]
                percent = round(100 * values[key] / whole, 1) if whole else None
            if key in hidden:
                cells[key] = Cell(suppressed=hidden[key])
            else:
                cells[key] = Cell(count=values[key], percent=percent)
    notes = tuple(
        Suppression(table.name, g, c, REASONS[reason]) for (g, c), reason in hidden.items()
    )
    return Published(
        table.name,
        table.title,
        table.breakdown,
        "counts",
        table.unit,
        columns,
        rows,
        cells,
        notes,
        table.percent_of,
    )


def _denominator(table: CountTable, key: Cellkey, columns: tuple[str, ...]) -> Cellkey | None:
    group, column = key
    if table.percent_of == "row" and TOTAL in columns and column != TOTAL:
        return (group, TOTAL)
    if table.percent_of == "column" and group != TOTAL:
        return (TOTAL, column)
    return None


def publish_statistics(table: StatTable, threshold: int) -> Published:
    """The n column is suppressed like a one-column count table; a statistic only shows for a
    group whose n shows."""
    n_table = CountTable(
        table.name,
        table.title,
        table.breakdown,
        table.groups,
        ("n",),
        {(g, "n"): table.n.get(g, 0) for g in table.groups},
        partition=False,
        percent_of="none",
    )
    counts = publish_counts(n_table, threshold)
    cells = dict(counts.cells)
    notes = list(counts.suppressions)
    for g in counts.groups:
        shown = cells[(g, "n")].suppressed is None
        for stat in table.statistics:
            value = table.values.get((g, stat))
            if shown:
                cells[(g, stat)] = Cell(value=value)
            else:
                cells[(g, stat)] = Cell(suppressed="small_group")
                notes.append(Suppression(table.name, g, stat, "its group's n is suppressed"))
    return Published(
        table.name,
        table.title,
        table.breakdown,
        "statistics",
        table.unit,
        ("n", *table.statistics),
        counts.groups,
        cells,
        tuple(notes),
    )

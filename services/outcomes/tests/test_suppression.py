"""Small-cell suppression, attacked: for each published table an attacker who knows every shown
count, total and share, and knows that a cell suppressed as small holds 1 to the threshold,
lists every table of non-negative whole counts that agrees with what was published. A suppressed
cell is safe only if it takes more than one value across them."""

import random
from collections.abc import Iterator
from dataclasses import replace

import pytest

from outcomes.domain.suppression import Line, determined, suppress
from outcomes.domain.tables import (
    TOTAL,
    Cell,
    CountTable,
    Published,
    count_table,
    lines_of,
    publish_counts,
)

Key = tuple[str, str]


def completions(
    published: Published, lines: list[Line[Key]], threshold: int
) -> Iterator[dict[Key, int]]:
    """Every assignment of the suppressed cells consistent with the published table: a line
    with one unknown left fixes it; otherwise the attacker tries each value of one unknown."""
    known = {k: c.count for k, c in published.cells.items() if c.count is not None}
    hidden = [k for k, c in published.cells.items() if c.suppressed]
    ceiling = sum(v for k, v in known.items()) + threshold * len(hidden)

    def allowed(key: Key, value: int) -> bool:
        if published.cells[key].suppressed == "small_cell":
            return 1 <= value <= threshold
        return 0 <= value <= ceiling

    def propagate(values: dict[Key, int]) -> bool:
        changed = True
        while changed:
            changed = False
            for line in lines:
                entries = [*line.members, line.total]
                unknown = [e for e in entries if e not in values]
                if len(unknown) > 1:
                    continue
                members = sum(values.get(m, 0) for m in line.members)
                if not unknown:
                    if members != values[line.total]:
                        return False
                    continue
                (gap,) = unknown
                value = members if gap == line.total else values[line.total] - members
                if not allowed(gap, value):
                    return False
                values[gap] = value
                changed = True
        return True

    def search(values: dict[Key, int]) -> Iterator[dict[Key, int]]:
        if not propagate(values):
            return
        open_ = [k for k in hidden if k not in values]
        if not open_:
            yield values
            return
        key = open_[0]
        options = (
            range(1, threshold + 1)
            if published.cells[key].suppressed == "small_cell"
            else range(ceiling + 1)
        )
        for value in options:
            yield from search({**values, key: value})

    for cell in published.cells.values():  # a share is shown only beside both its counts
        if cell.percent is not None:
            assert cell.count is not None
    yield from search(dict(known))


def recoverable(published: Published, lines: list[Line[Key]], threshold: int) -> set[Key]:
    """The suppressed cells for which the attacker finds only one value that fits."""
    pinned: set[Key] = set()
    known = {k: c.count for k, c in published.cells.items() if c.count is not None}
    ceiling = sum(known.values()) + threshold * len(published.cells)
    for key, cell in published.cells.items():
        if not cell.suppressed:
            continue
        options = range(1, threshold + 1) if cell.suppressed == "small_cell" else range(ceiling)
        fitting = 0
        for value in options:
            fixed = _with(published, key, value)
            if next(completions(fixed, lines, threshold), None) is not None:
                fitting += 1
                if fitting == 2:
                    break
        if fitting < 2:
            pinned.add(key)
    return pinned


def _with(published: Published, key: Key, value: int) -> Published:
    cells = dict(published.cells)
    cells[key] = Cell(count=value)
    return replace(published, cells=cells)


GROUPS = ("a", "b", "c")
COLUMNS = ("x", "y", "z")


def table_of(rows: list[list[int]], partition: bool = True) -> CountTable:
    members = [
        (g, c)
        for g, row in zip(GROUPS, rows, strict=True)
        for c, n in zip(COLUMNS, row, strict=True)
        for _ in range(n)
    ]
    return count_table("t", "t", "race", GROUPS, COLUMNS, members, partition=partition)


def test_a_single_small_cell_takes_complements_in_its_row_and_its_column() -> None:
    table = table_of([[3, 40, 25], [30, 22, 31], [18, 27, 35]])
    published = publish_counts(table, 10)
    assert published.cells[("a", "x")].suppressed == "small_cell"
    hidden = {k for k, c in published.cells.items() if c.suppressed}
    assert len(hidden) >= 4, "one gap in a row or a column is a gap anyone can fill"
    assert recoverable(published, lines_of(table), 10) == set()


def test_no_suppressed_cell_is_recovered_from_the_others_the_totals_or_the_shares() -> None:
    generator = random.Random(13)
    for _ in range(40):
        rows = [[generator.choice([0, 1, 2, 5, 9, 11, 14, 30]) for _ in COLUMNS] for _ in GROUPS]
        table = table_of(rows)
        published = publish_counts(table, 10)
        assert recoverable(published, lines_of(table), 10) == set(), rows
        for key, cell in published.cells.items():
            if cell.count is not None and 1 <= cell.count <= 10:
                pytest.fail(f"{key} shows a small count {cell.count}")
            if cell.percent is not None and key[1] != TOTAL:
                assert published.cells[(key[0], TOTAL)].count is not None


def test_a_cell_pinned_only_through_a_chain_of_lines_is_protected_too() -> None:
    # Two suppressed blocks joined by one cell: every line has two gaps, yet the joining cell
    # follows from adding up the lines of one block. Exact elimination sees it.
    values = {(r, c): 20 for r in "pqrs" for c in "wxyz"}
    lines = [Line(tuple((r, c) for c in "wxyz"), (r, "T")) for r in "pqrs"]
    lines += [Line(tuple((r, c) for r in "pqrs"), ("T", c)) for c in "wxyz"]
    for r in "pqrs":
        values[(r, "T")] = sum(values[(r, c)] for c in "wxyz")
    for c in "wxyz":
        values[("T", c)] = sum(values[(r, c)] for r in "pqrs")
    block = {
        ("p", "w"),
        ("p", "x"),
        ("q", "w"),
        ("q", "x"),
        ("r", "y"),
        ("r", "z"),
        ("s", "y"),
        ("s", "z"),
    }
    assert determined(values, lines, block | {("p", "y")}) == [("p", "y")]
    assert determined(values, lines, block) == []


def test_zero_is_shown_and_the_threshold_is_the_sites() -> None:
    table = table_of([[0, 12, 25], [30, 22, 31], [18, 27, 35]])
    assert publish_counts(table, 10).cells[("a", "x")].count == 0
    strict = publish_counts(table, 12)
    assert strict.cells[("a", "y")].suppressed == "small_cell"
    lenient = publish_counts(table, 1)
    assert lenient.cells[("a", "y")].count == 12
    with pytest.raises(ValueError, match="never below 1"):
        suppress({("a", "x"): 1}, [], 0)


def test_every_suppression_is_listed_with_its_reason() -> None:
    published = publish_counts(table_of([[3, 40, 25], [30, 22, 31], [18, 27, 35]]), 10)
    listed = {(s.group, s.column): s.reason for s in published.suppressions}
    hidden = {k for k, c in published.cells.items() if c.suppressed}
    assert set(listed) == hidden
    assert "1 to the site's threshold" in listed[("a", "x")]
    assert all("recomputed" in r for k, r in listed.items() if k != ("a", "x"))

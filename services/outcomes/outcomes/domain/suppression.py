"""Small-cell suppression with complementary suppression.

A table's counts are tied together by its lines: each row and each column adds up to its total.
Every count from 1 to the threshold is suppressed (primary). Then, while some suppressed count
can still be worked out exactly from what is shown, through any combination of lines (one line
with a single gap, or a chain of lines that pins a cell), one more count of a line through it
is suppressed: the one that leaves the fewest counts determined, then the smallest non-zero.

"Can be worked out" is decided exactly, not by the one-gap-per-line rule of thumb: a suppressed
count x is determined when its unit vector lies in the row space of the lines' equations over
the suppressed counts (Gaussian elimination over the rationals). Tables here are small (groups
by categories), so this costs microseconds.

Percentages are never a way round it: a share is shown only where its count and its
denominator both are (`percent_shown`).
"""

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Generic, Literal, TypeVar

K = TypeVar("K", bound=Hashable)
Reason = Literal["small_cell", "complementary"]
REASONS: Mapping[Reason, str] = {
    "small_cell": "a count from 1 to the site's threshold",
    "complementary": "would let a suppressed count be recomputed from the other counts and totals",
}


@dataclass(frozen=True)
class Line(Generic[K]):
    """`members` add up to `total`."""

    members: tuple[K, ...]
    total: K


def suppress(values: Mapping[K, int], lines: Sequence[Line[K]], threshold: int) -> dict[K, Reason]:
    """Which cells to suppress, and why."""
    if threshold < 1:
        raise ValueError("the suppression threshold is never below 1")
    hidden: dict[K, Reason] = {k: "small_cell" for k, v in values.items() if 1 <= v <= threshold}
    while True:
        exposed = determined(values, lines, set(hidden)) or at_their_bounds(values, lines, hidden)
        if not exposed:
            return hidden
        complement = _complement_for(exposed[0], values, lines, hidden)
        if complement is None:
            # Nothing left to hide around it: only possible if every cell is hidden already.
            return hidden
        hidden[complement] = "complementary"


def determined(values: Mapping[K, int], lines: Sequence[Line[K]], hidden: set[K]) -> list[K]:
    """The hidden cells whose value follows from the shown ones."""
    order = [k for k in values if k in hidden]
    index = {k: i for i, k in enumerate(order)}
    rows: list[list[Fraction]] = []
    for line in lines:
        row = [Fraction(0)] * len(order)
        for member in line.members:
            if member in index:
                row[index[member]] += 1
        if line.total in index:
            row[index[line.total]] -= 1
        if any(row):
            rows.append(row)
    basis = _echelon(rows)
    found: list[K] = []
    for key, i in index.items():
        unit = [Fraction(0)] * len(order)
        unit[i] = Fraction(1)
        if not any(_reduce(unit, basis)):
            found.append(key)
    return found


def at_their_bounds(
    values: Mapping[K, int], lines: Sequence[Line[K]], hidden: Mapping[K, Reason]
) -> list[K]:
    """Hidden cells of a line whose shown total leaves its gaps no room: a count suppressed as
    small is at least 1, so gaps adding up to no more than the number of small ones are each
    pinned (1 and 0, say)."""
    pinned: list[K] = []
    for line in lines:
        gaps = [m for m in line.members if m in hidden]
        if line.total in hidden or not gaps:
            continue
        small = sum(1 for m in gaps if hidden[m] == "small_cell")
        if sum(values[m] for m in gaps) <= small:
            pinned.extend(gaps)
    return pinned


def _echelon(rows: list[list[Fraction]]) -> list[tuple[int, list[Fraction]]]:
    """Reduced row echelon form as (pivot column, row) pairs."""
    basis: list[tuple[int, list[Fraction]]] = []
    for row in rows:
        reduced = _reduce(list(row), basis)
        pivot = next((i for i, v in enumerate(reduced) if v), None)
        if pivot is None:
            continue
        reduced = [v / reduced[pivot] for v in reduced]
        basis = [(p, _eliminate(r, reduced, pivot)) for p, r in basis]
        basis.append((pivot, reduced))
    return basis


def _reduce(row: list[Fraction], basis: list[tuple[int, list[Fraction]]]) -> list[Fraction]:
    for pivot, base in basis:
        row = _eliminate(row, base, pivot)
    return row


def _eliminate(row: list[Fraction], base: list[Fraction], pivot: int) -> list[Fraction]:
    factor = row[pivot]
    if not factor:
        return row
    return [v - factor * b for v, b in zip(row, base, strict=True)]


def _complement_for(
    cell: K, values: Mapping[K, int], lines: Sequence[Line[K]], hidden: Mapping[K, Reason]
) -> K | None:
    """The shown entry of a line through `cell` whose suppression leaves the fewest cells
    determined (closing a cycle of gaps protects every cell on it), then the least loss of
    information: non-zero before zero, cells before totals, small before large."""
    through = [line for line in lines if cell in line.members or cell == line.total]
    totals = {line.total for line in lines}
    candidates = {k for line in through for k in (*line.members, line.total) if k not in hidden}
    if not candidates:
        candidates = {k for k in values if k not in hidden}
    if not candidates:
        return None
    order = {k: i for i, k in enumerate(values)}

    def cost(key: K) -> tuple[int, int, int, int, int]:
        more: dict[K, Reason] = {**hidden, key: "complementary"}
        left = len(determined(values, lines, set(more))) + len(at_their_bounds(values, lines, more))
        value = values[key]
        return (left, 0 if value > 0 else 1, 1 if key in totals else 0, value, order[key])

    return min(candidates, key=cost)


def percent_shown(count: K, denominator: K, hidden: Mapping[K, Reason]) -> bool:
    """A share reveals its count from its denominator and the other way round."""
    return count not in hidden and denominator not in hidden

"""Time to first re-arrest as a Kaplan–Meier estimate, with people still followed (censored)
counted at risk until they leave observation.

S(t) = Π over event times tᵢ ≤ t of (1 − dᵢ / nᵢ), where dᵢ people were re-arrested at tᵢ and nᵢ
were still at risk just before it. A censored time equal to an event time is taken as at risk at
that time (the usual convention: censoring happens just after the events of the same day).
Greenwood's formula gives the standard error.
"""

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Observation:
    """Days followed, and whether they ended in the event (False: censored)."""

    days: int
    event: bool


@dataclass(frozen=True)
class Step:
    days: int
    at_risk: int
    events: int
    censored: int
    survival: float
    standard_error: float


def kaplan_meier(observations: Iterable[Observation]) -> list[Step]:
    """One step per distinct time at which anything happened, in time order."""
    followed = list(observations)
    return kaplan_meier_counted(
        Counter(o.days for o in followed if o.event),
        Counter(o.days for o in followed if not o.event),
    )


def kaplan_meier_counted(events: Mapping[int, int], censored: Mapping[int, int]) -> list[Step]:
    """`kaplan_meier` from how many were re-arrested, and how many censored, on each day."""
    at_risk = sum(events.values()) + sum(censored.values())
    survival, greenwood = 1.0, 0.0
    steps: list[Step] = []
    for days in sorted(set(events) | set(censored)):
        d, c = events.get(days, 0), censored.get(days, 0)
        if d:
            survival *= 1 - d / at_risk
            if at_risk > d:
                greenwood += d / (at_risk * (at_risk - d))
        error = survival * math.sqrt(greenwood) if survival > 0 else 0.0
        steps.append(Step(days, at_risk, d, c, survival, error))
        at_risk -= d + c
    return steps


def survival_at(steps: list[Step], days: int) -> float:
    """S(days): the estimate after the last step at or before `days`."""
    value = 1.0
    for step in steps:
        if step.days > days:
            break
        value = step.survival
    return value


def at_risk_at(steps: list[Step], days: int, total: int) -> int:
    """How many were still followed and not re-arrested just before `days`."""
    remaining = total
    for step in steps:
        if step.days >= days:
            break
        remaining = step.at_risk - step.events - step.censored
    return remaining

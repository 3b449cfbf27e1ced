"""Who gets a place when the site is full: arrest diversions before social contacts, then
community referrals, each in the order they started waiting. Nobody is dropped."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from offramp_contracts.events.base import Door

PRIORITY: dict[Door, int] = {"arrest_diversion": 0, "social_contact": 1, "community": 2}


@dataclass(frozen=True)
class Waiting:
    referral_id: UUID
    door: Door
    since: datetime


def admission_order(waiting: Iterable[Waiting]) -> list[Waiting]:
    return sorted(waiting, key=lambda w: (PRIORITY[w.door], w.since, str(w.referral_id)))


def next_admissions(waiting: Iterable[Waiting], free_places: int) -> list[Waiting]:
    return admission_order(waiting)[: max(free_places, 0)]

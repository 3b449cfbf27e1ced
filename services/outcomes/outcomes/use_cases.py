"""Outcomes' two use cases: fold an event into the read model (the inbox handler, in the inbox's
transaction), and compute a report as known on a date."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import asyncpg

from offramp_contracts import event_catalogue, payload_of
from outcomes.adapters.read_model import ReadModel
from outcomes.domain.facts import Pseudonymiser, fold
from outcomes.domain.population import ReportQuery
from outcomes.domain.reports import Report
from outcomes.domain.tallied import Tallies, build_tallied_report
from servicekit.inbox import Delivered


class ReportTallies(Protocol):
    async def tally(self, query: ReportQuery) -> Tallies: ...


@dataclass(frozen=True)
class FoldIntoReadModel:
    """Every subject comes here; what no report counts folds to nothing. An event type this
    code does not know yet is skipped (a newer version of a known one is refused, and parked
    after its attempts, so that an upgrade can replay it)."""

    read_model: ReadModel
    pseudonym: Pseudonymiser

    async def __call__(self, conn: asyncpg.Connection, delivered: Delivered) -> None:
        event = delivered.event
        if event.event_type not in event_catalogue():
            return
        await self.read_model.keep(conn, fold(event, payload_of(event), self.pseudonym))

    async def batch(self, conn: asyncpg.Connection, batch: Sequence[Delivered]) -> None:
        """A batch of events (a rebuild's), folded in the order they came, kept at once."""
        known = event_catalogue()
        await self.read_model.keep_all(
            conn,
            [
                fold(d.event, payload_of(d.event), self.pseudonym)
                for d in batch
                if d.event.event_type in known
            ],
        )


@dataclass(frozen=True)
class ComputeReport:
    """The query says whose knowledge (`as_known_on`) and which threshold; the read model
    counts what had been recorded by then, and the domain makes the tables and suppresses."""

    tallies: ReportTallies

    async def __call__(self, query: ReportQuery) -> Report:
        return build_tallied_report(query, await self.tallies.tally(query))

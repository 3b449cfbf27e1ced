"""Outcomes' two use cases: fold an event into the read model (the inbox handler, in the inbox's
transaction), and compute a report as known on a date."""

from dataclasses import dataclass

import asyncpg

from offramp_contracts import event_catalogue, payload_of
from outcomes.adapters.read_model import ReadModel
from outcomes.domain.facts import Pseudonymiser, fold
from outcomes.domain.population import ReportQuery, population
from outcomes.domain.reports import Report, build_report
from servicekit.inbox import Delivered


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


@dataclass(frozen=True)
class ComputeReport:
    """The query says whose knowledge (`as_known_on`) and which threshold; the read model
    answers with what had been recorded by then, and the domain does the rest."""

    read_model: ReadModel

    async def __call__(self, query: ReportQuery) -> Report:
        known = await self.read_model.known(query.jurisdiction, query.as_known_on)
        return build_report(query, population(query, known.referrals, known.cases, known.facts))

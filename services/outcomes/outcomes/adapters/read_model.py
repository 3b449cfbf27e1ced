"""The read model's port and its two implementations: PostgreSQL (the outcomes schema) and
memory (for the domain's tests). Both keep each fact's recorded_at, and both answer "what had
been recorded by then" for a report as known on a date."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import asyncpg

from outcomes.adapters.folding import refold
from outcomes.domain.facts import CaseLink, Fact, Folded, ReferralFact


@dataclass(frozen=True)
class Known:
    """What had been recorded in a jurisdiction by an instant, facts in recorded order."""

    referrals: list[ReferralFact]
    cases: list[CaseLink]
    facts: list[Fact]


class ReadModel(Protocol):
    async def keep(self, conn: asyncpg.Connection, folded: Folded) -> None: ...

    async def keep_all(self, conn: asyncpg.Connection, batch: Sequence[Folded]) -> None: ...

    async def known(self, jurisdiction: str, by: datetime) -> Known: ...


@dataclass
class PostgresReadModel:
    pool: asyncpg.Pool

    async def analyse(self) -> None:
        """The planner's statistics of every table, for tables that grew from nothing (once, at
        the end of a rebuild)."""
        await self.pool.execute("ANALYZE referrals, cases, facts, folds, status_spans, inbox")

    async def keep(self, conn: asyncpg.Connection, folded: Folded) -> None:
        """Inside the inbox transaction; a re-driven event already kept changes nothing."""
        await self.keep_all(conn, [folded])

    async def keep_all(self, conn: asyncpg.Connection, batch: Sequence[Folded]) -> None:
        """What a batch of events adds, in one statement a table, then the referrals it touches
        folded again (`folding`), all in the caller's transaction."""
        referrals = [f.referral for f in batch if f.referral is not None]
        cases = [f.case for f in batch if f.case is not None]
        facts = [fact for f in batch for fact in f.facts]
        if referrals:
            await conn.executemany(
                """INSERT INTO referrals (referral_id, jurisdiction, person, door, source, race,
                                          ethnicity, referred_on, recorded_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING""",
                [
                    (r.referral_id, r.jurisdiction, r.person, r.door, r.source, r.race,
                     r.ethnicity, r.referred_on, r.recorded_at)
                    for r in referrals
                ],
            )  # fmt: skip
        if cases:
            await conn.executemany(
                """INSERT INTO cases (case_id, referral_id, jurisdiction, recorded_at)
                   VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING""",
                [(c.case_id, c.referral_id, c.jurisdiction, c.recorded_at) for c in cases],
            )
        if facts:
            await conn.executemany(
                """INSERT INTO facts (event_id, jurisdiction, referral_id, case_id, kind, value,
                                      on_date, recorded_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING""",
                [
                    (f.event_id, f.jurisdiction, f.referral_id, f.case_id, f.kind, f.value, f.on,
                     f.recorded_at)
                    for f in facts
                ],
            )  # fmt: skip
        await refold(
            conn,
            [*(r.referral_id for r in referrals), *(c.referral_id for c in cases),
             *(f.referral_id for f in facts if f.referral_id is not None)],
            [f.case_id for f in facts if f.case_id is not None and f.referral_id is None],
            [r.referral_id for r in referrals],
        )  # fmt: skip

    async def known(self, jurisdiction: str, by: datetime) -> Known:
        async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            referrals = await conn.fetch(
                """SELECT referral_id, jurisdiction, person, door, source, race, ethnicity,
                          referred_on, recorded_at
                   FROM referrals WHERE jurisdiction = $1 AND recorded_at <= $2""",
                jurisdiction, by,
            )  # fmt: skip
            cases = await conn.fetch(
                """SELECT case_id, referral_id, jurisdiction, recorded_at FROM cases
                   WHERE jurisdiction = $1 AND recorded_at <= $2""",
                jurisdiction, by,
            )  # fmt: skip
            facts = await conn.fetch(
                """SELECT event_id, jurisdiction, kind, value, on_date, recorded_at, referral_id,
                          case_id
                   FROM facts WHERE jurisdiction = $1 AND recorded_at <= $2
                   ORDER BY recorded_at, position""",
                jurisdiction, by,
            )  # fmt: skip
        return Known(
            [ReferralFact(*row) for row in referrals],
            [CaseLink(*row) for row in cases],
            [Fact(*row) for row in facts],
        )


@dataclass
class MemoryReadModel:
    referrals: dict[object, ReferralFact] = field(default_factory=dict)
    cases: dict[object, CaseLink] = field(default_factory=dict)
    facts: list[Fact] = field(default_factory=list)

    async def keep(self, conn: object, folded: Folded) -> None:
        if folded.referral is not None:
            self.referrals.setdefault(folded.referral.referral_id, folded.referral)
        if folded.case is not None:
            self.cases.setdefault(folded.case.case_id, folded.case)
        self.facts.extend(folded.facts)

    async def keep_all(self, conn: object, batch: Sequence[Folded]) -> None:
        for folded in batch:
            await self.keep(conn, folded)

    async def known(self, jurisdiction: str, by: datetime) -> Known:
        referrals = [
            r
            for r in self.referrals.values()
            if r.jurisdiction == jurisdiction and r.recorded_at <= by
        ]
        ids = {r.referral_id for r in referrals}
        cases = [c for c in self.cases.values() if c.referral_id in ids and c.recorded_at <= by]
        facts = [f for f in self.facts if f.jurisdiction == jurisdiction and f.recorded_at <= by]
        facts.sort(key=lambda f: f.recorded_at)
        return Known(referrals, cases, facts)

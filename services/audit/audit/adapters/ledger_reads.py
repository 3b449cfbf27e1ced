"""The ledger as the use cases read it: a page of entries, the checkpoints, and one case's or
referral's events. The port, its PostgreSQL implementation (the ledger role's sessions) and an
in-memory one for the use cases' own tests. Proofs and verification read the database through
`audit.proofs` and `audit.cosigning`, whose suites run on the real server."""

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import asyncpg

from audit.adapters import checkpoint_store, history_store
from audit.domain.checkpoint import SignedCheckpoint
from audit.domain.timeline import LedgerEvent, ordered
from offramp_contracts.identifiers import case_id_for_referral


@dataclass(frozen=True)
class ListedEntry:
    """An entry as auditors list it: as chained, with the subject it arrived on and who wrote
    it (the producer whose key signed the event, the key and the signature)."""

    seq: int
    subject: str
    entry: dict[str, Any]
    previous_hash: str
    hash: str
    producer: str | None
    key_id: str | None
    signature: str | None


class LedgerReads(Protocol):
    async def entries(self, after_seq: int, limit: int) -> list[ListedEntry]: ...

    async def checkpoints(self) -> list[SignedCheckpoint]: ...

    async def checkpoint(self, number: int) -> SignedCheckpoint | None: ...

    async def case_events(self, case_id: UUID) -> list[LedgerEvent]:
        """Every entry about the case, and about the referral that opened it."""
        ...

    async def case_events_as_of(self, case_id: UUID, instant: datetime) -> list[LedgerEvent]:
        """Those of `case_events` recorded by `instant`."""
        ...

    async def referral_events(self, referral_id: UUID) -> list[LedgerEvent]:
        """A referral's entries, running on into the case it opened if it opened one."""
        ...


@dataclass(frozen=True)
class PostgresLedgerReads:
    pool: asyncpg.Pool

    async def entries(self, after_seq: int, limit: int) -> list[ListedEntry]:
        rows = await self.pool.fetch(
            """SELECT seq, subject, entry, previous_hash, hash, producer, key_id, signature
               FROM ledger WHERE seq > $1 ORDER BY seq LIMIT $2""",
            after_seq,
            limit,
        )
        return [ListedEntry(**{**dict(row), "entry": json.loads(row["entry"])}) for row in rows]

    async def checkpoints(self) -> list[SignedCheckpoint]:
        return await checkpoint_store.all_checkpoints(self.pool)

    async def checkpoint(self, number: int) -> SignedCheckpoint | None:
        return await checkpoint_store.checkpoint(self.pool, number)

    async def case_events(self, case_id: UUID) -> list[LedgerEvent]:
        return await history_store.case_events(self.pool, case_id)

    async def case_events_as_of(self, case_id: UUID, instant: datetime) -> list[LedgerEvent]:
        return await history_store.case_events_as_of(self.pool, case_id, instant)

    async def referral_events(self, referral_id: UUID) -> list[LedgerEvent]:
        return await history_store.referral_events(self.pool, referral_id)


@dataclass
class InMemoryLedgerReads:
    """Entries and checkpoints as given, in order; events found by the ids their data carry,
    as the PostgreSQL indexes find them."""

    listed: list[ListedEntry] = field(default_factory=list)
    signed: list[SignedCheckpoint] = field(default_factory=list)
    events: list[LedgerEvent] = field(default_factory=list)

    async def entries(self, after_seq: int, limit: int) -> list[ListedEntry]:
        return sorted((e for e in self.listed if e.seq > after_seq), key=lambda e: e.seq)[:limit]

    async def checkpoints(self) -> list[SignedCheckpoint]:
        return sorted(self.signed, key=lambda c: c.body.number)

    async def checkpoint(self, number: int) -> SignedCheckpoint | None:
        return next((c for c in self.signed if c.body.number == number), None)

    async def case_events(self, case_id: UUID) -> list[LedgerEvent]:
        of_case = ordered([e for e in self.events if _names(e, "case_id", case_id)])
        opened_by = next(
            (e.event.data["referral_id"] for e in of_case if e.event.data.get("referral_id")),
            None,
        )
        of_referral = [
            e
            for e in self.events
            if opened_by is not None and _names(e, "referral_id", opened_by) and e not in of_case
        ]
        return ordered(of_case + of_referral)

    async def case_events_as_of(self, case_id: UUID, instant: datetime) -> list[LedgerEvent]:
        return [e for e in await self.case_events(case_id) if e.event.recorded_at <= instant]

    async def referral_events(self, referral_id: UUID) -> list[LedgerEvent]:
        return await self.case_events(case_id_for_referral(referral_id)) or ordered(
            [e for e in self.events if _names(e, "referral_id", referral_id)]
        )


def _names(event: LedgerEvent, key: str, value: object) -> bool:
    return str(event.event.data.get(key)) == str(value)

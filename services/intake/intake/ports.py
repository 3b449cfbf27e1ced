"""The port intake's use cases write their read models and bookkeeping through (issue 19,
item 4). `intake.adapters.tables` is the PostgreSQL implementation (the module itself is
passed); `intake.adapters.memory.MemoryTables` the in-memory one that use-case tests run on.
`services/intake/tests/test_tables_contract.py` runs one suite against both.

Every method takes the caller's connection and runs inside its transaction, beside the events
it reflects."""

from datetime import datetime
from typing import Protocol
from uuid import UUID

import asyncpg

from intake.adapters.tables import ReferralRow
from intake.domain.capacity import Waiting
from intake.domain.referral import Status
from offramp_contracts.events.intake import ReferralReceived, RuleResult


class IntakeTables(Protocol):
    async def insert_referral(
        self,
        conn: asyncpg.Connection,
        received: ReferralReceived,
        *,
        jurisdiction: str,
        at: datetime,
        person_key: str,
    ) -> None: ...

    async def participants_with(
        self, conn: asyncpg.Connection, *, jurisdiction: str, person_key: str
    ) -> list[tuple[UUID, str]]: ...

    async def set_status(
        self, conn: asyncpg.Connection, referral_id: UUID, status: Status, at: datetime
    ) -> ReferralRow: ...

    async def referral(
        self, conn: asyncpg.Connection | asyncpg.Pool, referral_id: UUID
    ) -> ReferralRow | None: ...

    async def claim_submission(
        self,
        conn: asyncpg.Connection,
        *,
        agency: str,
        subject: str,
        key: str,
        fingerprint: str,
        referral_id: UUID,
    ) -> tuple[UUID, str] | None: ...

    async def queue_for_review(
        self,
        conn: asyncpg.Connection,
        received: ReferralReceived,
        rules: tuple[RuleResult, ...],
        *,
        jurisdiction: str,
        prosecutor_agency: str,
        at: datetime,
    ) -> None: ...

    async def leave_review(self, conn: asyncpg.Connection, referral_id: UUID) -> None: ...

    async def lock_site(self, conn: asyncpg.Connection, jurisdiction: str) -> None: ...

    async def places_taken(
        self, conn: asyncpg.Connection, jurisdiction: str
    ) -> tuple[int, list[Waiting]]: ...

    async def record_admission(
        self, conn: asyncpg.Connection, referral_id: UUID, jurisdiction: str, at: datetime
    ) -> None: ...

    async def record_waiting(
        self, conn: asyncpg.Connection, entry: Waiting, jurisdiction: str
    ) -> None: ...

    async def leave_waitlist(self, conn: asyncpg.Connection, referral_id: UUID) -> None: ...

    async def record_closure(
        self, conn: asyncpg.Connection, referral_id: UUID, at: datetime
    ) -> str | None: ...


__all__ = ["IntakeTables"]

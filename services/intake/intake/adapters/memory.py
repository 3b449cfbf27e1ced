"""Intake's tables in memory, for use-case tests and pure runs, never for the service: the
`intake.ports.IntakeTables` contract that `intake.adapters.tables` keeps in PostgreSQL (one
suite pins both: `services/intake/tests/test_tables_contract.py`). Registered with a
`servicekit.memory.MemoryDatabase`, so a failed transaction undoes them; that database runs one
transaction at a time, which is what `lock_site` asks of PostgreSQL."""

from dataclasses import dataclass, field, replace
from datetime import datetime
from uuid import UUID

import asyncpg

from intake.adapters.tables import ReferralRow
from intake.domain.capacity import Waiting
from intake.domain.referral import Status
from intake.ports import IntakeTables
from offramp_contracts.events.intake import ReferralReceived, RuleResult
from servicekit.memory import MemoryDatabase


@dataclass(frozen=True)
class _Referral:
    row: ReferralRow
    policy_version: str
    person_key: str


@dataclass(frozen=True)
class _Admission:
    jurisdiction: str
    admitted_at: datetime
    closed_at: datetime | None = None


@dataclass(frozen=True)
class Review:
    """A referral waiting for its site's prosecutor, and the rules that sent it there."""

    referral_id: UUID
    jurisdiction: str
    prosecutor_agency: str
    rules: tuple[RuleResult, ...]
    received_at: datetime


@dataclass
class _Tables:
    referrals: dict[UUID, _Referral] = field(default_factory=dict)
    submissions: dict[tuple[str, str, str], tuple[UUID, str]] = field(default_factory=dict)
    reviews: dict[UUID, Review] = field(default_factory=dict)
    admissions: dict[UUID, _Admission] = field(default_factory=dict)
    waitlist: dict[UUID, tuple[str, Waiting]] = field(default_factory=dict)

    def copy(self) -> "_Tables":
        return _Tables(
            dict(self.referrals),
            dict(self.submissions),
            dict(self.reviews),
            dict(self.admissions),
            dict(self.waitlist),
        )


class MemoryTables:
    def __init__(self, database: MemoryDatabase) -> None:
        self._t = _Tables()
        database.register(self)

    def snapshot(self) -> object:
        return self._t.copy()

    def restore(self, snapshot: object) -> None:
        assert isinstance(snapshot, _Tables)
        self._t = snapshot

    # What a test looks at ----------------------------------------------------------------------

    def reviews(self) -> list[Review]:
        return list(self._t.reviews.values())

    def waiting(self, jurisdiction: str) -> list[Waiting]:
        return [w for j, w in self._t.waitlist.values() if j == jurisdiction]

    def open_admissions(self, jurisdiction: str) -> list[UUID]:
        return [
            referral_id
            for referral_id, a in self._t.admissions.items()
            if a.jurisdiction == jurisdiction and a.closed_at is None
        ]

    # The port ----------------------------------------------------------------------------------

    async def insert_referral(
        self,
        conn: asyncpg.Connection,
        received: ReferralReceived,
        *,
        jurisdiction: str,
        at: datetime,
        person_key: str,
    ) -> None:
        if received.referral_id in self._t.referrals:
            raise asyncpg.UniqueViolationError(f"referral {received.referral_id} exists")
        row = ReferralRow(
            referral_id=received.referral_id,
            jurisdiction=jurisdiction,
            officer_subject=received.referring_officer.subject,
            officer_agency=received.referring_officer.agency,
            door=received.door,
            status="awaiting_review",
            received_at=at,
            updated_at=at,
        )
        self._t.referrals[received.referral_id] = _Referral(
            row, received.policy_version, person_key
        )

    async def participants_with(
        self, conn: asyncpg.Connection, *, jurisdiction: str, person_key: str
    ) -> list[tuple[UUID, str]]:
        found = [
            (admission.admitted_at, referral_id, self._t.referrals[referral_id].policy_version)
            for referral_id, admission in self._t.admissions.items()
            if admission.closed_at is None
            and self._t.referrals[referral_id].row.jurisdiction == jurisdiction
            and self._t.referrals[referral_id].person_key == person_key
        ]
        return [(referral_id, version) for _, referral_id, version in sorted(found)]

    async def set_status(
        self, conn: asyncpg.Connection, referral_id: UUID, status: Status, at: datetime
    ) -> ReferralRow:
        stored = self._t.referrals[referral_id]
        row = replace(stored.row, status=status, updated_at=at)
        self._t.referrals[referral_id] = replace(stored, row=row)
        return row

    async def referral(
        self, conn: asyncpg.Connection | asyncpg.Pool, referral_id: UUID
    ) -> ReferralRow | None:
        stored = self._t.referrals.get(referral_id)
        return stored.row if stored else None

    async def claim_submission(
        self,
        conn: asyncpg.Connection,
        *,
        agency: str,
        subject: str,
        key: str,
        fingerprint: str,
        referral_id: UUID,
    ) -> tuple[UUID, str] | None:
        earlier = self._t.submissions.get((agency, subject, key))
        if earlier is None:
            self._t.submissions[(agency, subject, key)] = (referral_id, fingerprint)
        return earlier

    async def queue_for_review(
        self,
        conn: asyncpg.Connection,
        received: ReferralReceived,
        rules: tuple[RuleResult, ...],
        *,
        jurisdiction: str,
        prosecutor_agency: str,
        at: datetime,
    ) -> None:
        if received.referral_id in self._t.reviews:
            raise asyncpg.UniqueViolationError(f"referral {received.referral_id} is queued")
        self._t.reviews[received.referral_id] = Review(
            received.referral_id, jurisdiction, prosecutor_agency, rules, at
        )

    async def leave_review(self, conn: asyncpg.Connection, referral_id: UUID) -> None:
        self._t.reviews.pop(referral_id, None)

    async def lock_site(self, conn: asyncpg.Connection, jurisdiction: str) -> None:
        if not conn.is_in_transaction():
            raise RuntimeError("a site is locked only inside a transaction")

    async def places_taken(
        self, conn: asyncpg.Connection, jurisdiction: str
    ) -> tuple[int, list[Waiting]]:
        return len(self.open_admissions(jurisdiction)), self.waiting(jurisdiction)

    async def record_admission(
        self, conn: asyncpg.Connection, referral_id: UUID, jurisdiction: str, at: datetime
    ) -> None:
        if referral_id in self._t.admissions:
            raise asyncpg.UniqueViolationError(f"referral {referral_id} was admitted before")
        self._t.waitlist.pop(referral_id, None)
        self._t.admissions[referral_id] = _Admission(jurisdiction, at)

    async def record_waiting(
        self, conn: asyncpg.Connection, entry: Waiting, jurisdiction: str
    ) -> None:
        if entry.referral_id in self._t.waitlist:
            raise asyncpg.UniqueViolationError(f"referral {entry.referral_id} is waiting")
        self._t.waitlist[entry.referral_id] = (jurisdiction, entry)

    async def leave_waitlist(self, conn: asyncpg.Connection, referral_id: UUID) -> None:
        self._t.waitlist.pop(referral_id, None)

    async def record_closure(
        self, conn: asyncpg.Connection, referral_id: UUID, at: datetime
    ) -> str | None:
        admission = self._t.admissions.get(referral_id)
        if admission is None or admission.closed_at is not None:
            return None
        self._t.admissions[referral_id] = replace(admission, closed_at=at)
        return admission.jurisdiction


__all__ = ["MemoryTables", "Review"]

_KEEPS_THE_PORT: type[IntakeTables] = MemoryTables  # mypy checks the memory tables against it

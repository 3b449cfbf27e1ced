"""A case in Postgres: its event stream (the record) and its row in `cases` (the read model),
changed together in the caller's transaction.

Every change goes through `load` (which locks the case's row) and `record` (which stores what
the case's decider, `casework.domain.case`, decided on the case as loaded). The row lock
serialises the HTTP commands and the timeline's activities on one case, so a decision is always
taken on the case as it is; the event store's optimistic concurrency stays as the backstop.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

import asyncpg

from casework.adapters import consent_tables
from offramp_contracts import Actor, EventEnvelope, EventPayload, payload_of
from offramp_contracts.events.casework import CaseOpened
from offramp_contracts.lifecycle import (
    CaseState,
    coarse_status,
    evolve,
    intake_window_outcome,
    replay,
)
from servicekit import command_loop
from servicekit.ports import StreamStore


def stream_of(case_id: UUID) -> str:
    return f"case-{case_id}"


@dataclass(frozen=True)
class StoredCase:
    state: CaseState
    version: int
    jurisdiction: str
    agency: str
    opened_at: datetime
    intake_deadline: datetime | None
    events: tuple[EventEnvelope, ...] = ()
    """The case's stream, oldest first: what decisions beyond the projected state read (the
    releases of information, what a disclosure may show)."""

    @property
    def case_id(self) -> UUID:
        return self.state.case_id


@dataclass(frozen=True)
class Recorded:
    case: StoredCase
    events: list[EventEnvelope]
    replayed: bool = False
    """The command ran before (a retry under its Idempotency-Key): `case` and `events` are as
    its first attempt stored them, and nothing was stored now."""


def as_of(case: StoredCase, version: int) -> StoredCase:
    """The case as it stood at `version` of its stream."""
    events = case.events[:version]
    state = replay(payload_of(envelope) for envelope in events)
    assert state is not None, "every stored version of a case follows its CaseOpened"
    return replace(case, state=state, version=version, events=events)


class CaseStore:
    def __init__(self, store: StreamStore) -> None:
        self._store = store

    async def open(
        self,
        conn: asyncpg.Connection,
        opened: CaseOpened,
        *,
        jurisdiction: str,
        agency: str,
        opened_at: datetime,
        intake_deadline: datetime | None,
        actor: Actor,
        correlation_id: UUID,
        causation_id: UUID | None,
        event_id: UUID,
    ) -> StoredCase:
        origin = command_loop.Origin(actor, jurisdiction, correlation_id, causation_id)
        (event,) = await command_loop.append(
            conn,
            self._store,
            stream_of(opened.case_id),
            0,
            [opened],
            origin,
            occurred_at=opened_at,
            event_ids=[event_id],
        )
        state = evolve(None, opened)
        await conn.execute(
            """INSERT INTO cases (case_id, referral_id, jurisdiction, door, referring_subject,
                                  referring_agency, policy_version, case_agency, status, phase,
                                  opened_at, intake_deadline, intake_window)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)""",
            opened.case_id,
            opened.referral_id,
            jurisdiction,
            opened.door,
            opened.referring_officer.subject,
            opened.referring_officer.agency,
            opened.policy_version,
            agency,
            coarse_status(state),
            state.phase,
            opened_at,
            intake_deadline,
            intake_window_outcome(state),
        )
        return StoredCase(state, 1, jurisdiction, agency, opened_at, intake_deadline, (event,))

    async def load(
        self, conn: asyncpg.Connection, case_id: UUID, *, lock: bool = True
    ) -> StoredCase | None:
        """The case as stored; with `lock`, its row stays locked until the transaction ends."""
        if not conn.is_in_transaction():
            raise RuntimeError("CaseStore.load must run inside the caller's transaction")
        row = await conn.fetchrow(
            "SELECT jurisdiction, case_agency, opened_at, intake_deadline FROM cases "
            "WHERE case_id = $1" + (" FOR UPDATE" if lock else ""),
            case_id,
        )
        if row is None:
            return None
        envelopes = await self._store.read_stream(conn, stream_of(case_id))
        state = replay(payload_of(envelope) for envelope in envelopes)
        if state is None:
            raise RuntimeError(f"case {case_id} has a row but no CaseOpened in its stream")
        return StoredCase(
            state=state,
            version=envelopes[-1].stream_version,
            jurisdiction=row["jurisdiction"],
            agency=row["case_agency"],
            opened_at=row["opened_at"],
            intake_deadline=row["intake_deadline"],
            events=tuple(envelopes),
        )

    async def record(
        self,
        conn: asyncpg.Connection,
        case: StoredCase,
        payloads: Sequence[EventPayload],
        *,
        actor: Actor,
        correlation_id: UUID,
        causation_id: UUID | None,
        occurred_at: datetime | None = None,
        event_ids: Sequence[UUID] | None = None,
    ) -> Recorded:
        """Store `payloads`, decided on `case`, as the case's next events."""
        state = command_loop.fold(evolve, case.state, payloads)
        if not payloads:
            return Recorded(case, [])
        origin = command_loop.Origin(actor, case.jurisdiction, correlation_id, causation_id)
        events = await command_loop.append(
            conn,
            self._store,
            stream_of(case.case_id),
            case.version,
            payloads,
            origin,
            occurred_at=occurred_at,
            event_ids=event_ids,
        )
        await conn.execute(
            """UPDATE cases SET case_manager = $2, status = $3, phase = $4, last_contact_at = $5,
                                closed_at = CASE WHEN $4 = 'closed' THEN $6::timestamptz END,
                                intake_window = $7
               WHERE case_id = $1""",
            case.case_id,
            state.case_manager.subject if state.case_manager else None,
            coarse_status(state),
            state.phase,
            state.last_contact_at,
            events[-1].occurred_at,
            intake_window_outcome(state),
        )
        await consent_tables.project(conn, events)
        now = replace(
            case, state=state, version=case.version + len(events), events=(*case.events, *events)
        )
        return Recorded(now, events)

    async def contains(self, conn: asyncpg.Connection, event_id: UUID) -> bool:
        return await self._store.contains(conn, event_id)

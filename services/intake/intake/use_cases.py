"""Intake's use cases. Each is one transaction: the referral's events, the read models and the
outbox commit together or not at all, so a refused or failed request leaves nothing behind."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal
from uuid import UUID

import asyncpg
import uuid6

from intake.adapters import tables
from intake.domain import referral as referrals
from intake.domain.capacity import Waiting, next_admissions
from intake.domain.person import person_key
from intake.domain.referral import Referral, Refused, Status, SubmitReferral
from intake.domain.referral_form import ReferralForm, referral_form
from intake.ports import IntakeTables
from offramp_contracts import Actor, EventEnvelope, EventPayload, payload_of
from offramp_contracts.events.audit import RecordRef
from offramp_contracts.events.base import StaffRef
from offramp_contracts.events.casework import CaseClosed
from offramp_contracts.events.intake import (
    EligibilityDecided,
    ParticipantArrestReported,
    Person,
    ReferralReceived,
)
from offramp_contracts.profile import SiteProfile
from servicekit import command_loop
from servicekit.access import record_lookup
from servicekit.auth import Principal
from servicekit.events import system_actor
from servicekit.inbox import Delivered
from servicekit.log import get_logger
from servicekit.ports import StreamStore
from servicekit.profiles import ProfileBook, UnknownProfile
from servicekit.refusals import Refusal

log = get_logger(__name__)


class NotFound(Refusal, LookupError):
    """No such referral, or none the caller may see: the two are not told apart."""

    status = 404
    kind = "not-found"
    title = "No such referral"

    def __init__(self, referral_id: UUID) -> None:
        super().__init__(f"There is no referral {referral_id} that you may see or change.")


@dataclass(frozen=True)
class Request:
    """Who asks, for which jurisdiction, under which correlation id."""

    actor: Actor
    jurisdiction: str
    correlation_id: UUID

    @property
    def staff(self) -> StaffRef:
        return StaffRef(subject=self.actor.subject, agency=self.actor.agency)


@dataclass(frozen=True)
class ArrestReport:
    """Who was arrested, as the arresting officer or the prosecutor knows them, and when."""

    given_name: str
    family_name: str
    date_of_birth: date
    arrested_on: date


ArrestOutcome = Literal["recorded_for_a_participant", "not_a_participant"]


@dataclass(frozen=True)
class Submitted:
    referral: tables.ReferralRow
    replayed: bool


def stream_of(referral_id: UUID) -> str:
    return f"referral-{referral_id}"


class Intake:
    def __init__(
        self,
        pool: asyncpg.Pool,
        store: StreamStore,
        profiles: ProfileBook,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        tables: IntakeTables = tables,
    ) -> None:
        self._pool = pool
        self._store = store
        self._profiles = profiles
        self._clock = clock
        self._tables = tables

    # Commands ----------------------------------------------------------------------------------

    async def submit(
        self, command: SubmitReferral, request: Request, *, idempotency_key: str, fingerprint: str
    ) -> Submitted:
        """A retry under the same key returns the referral the first attempt made; the same key
        with a different referral is refused, since one of the two would otherwise be lost."""
        now = self._clock()
        profile = self._profile_in_force(request.jurisdiction, now)
        async with self._pool.acquire() as conn, conn.transaction():
            earlier = await self._tables.claim_submission(
                conn,
                agency=request.actor.agency,
                subject=request.actor.subject,
                key=idempotency_key,
                fingerprint=fingerprint,
                referral_id=command.referral_id,
            )
            if earlier is not None:
                referral_id, first_fingerprint = earlier
                if first_fingerprint != fingerprint:
                    raise Refused(
                        "idempotency-key-reused",
                        f"the Idempotency-Key {idempotency_key!r} was already used for a different "
                        "referral; send a new referral with a new key",
                    )
                row = await self._tables.referral(conn, referral_id)
                assert row is not None, "a claimed submission always has its referral"
                return Submitted(row, replayed=True)

            received, decided = referrals.receive(command, profile, judged_on=now.date())
            state, envelopes = await self._record(conn, None, [received, decided], request, None)
            await self._tables.insert_referral(
                conn,
                received,
                jurisdiction=request.jurisdiction,
                at=now,
                person_key=person_key_of(command.person),
            )
            if decided.decision == "needs_review":
                await self._tables.queue_for_review(
                    conn,
                    received,
                    decided.rules,
                    jurisdiction=request.jurisdiction,
                    prosecutor_agency=profile.agencies.prosecutor,
                    at=now,
                )
            row = await self._settle(conn, state, request, envelopes[-1].event_id, now)
        log.info("referral received", referral_id=str(command.referral_id), status=row.status)
        return Submitted(row, replayed=False)

    async def review(
        self,
        referral_id: UUID,
        request: Request,
        *,
        verdict: Literal["approved", "declined"],
        reason: str,
    ) -> tables.ReferralRow:
        """Only the prosecutor's office the referral's site names, in the referral's jurisdiction."""
        now = self._clock()
        async with self._pool.acquire() as conn, conn.transaction():
            row = await self._tables.referral(conn, referral_id)
            if row is None or row.jurisdiction != request.jurisdiction:
                raise NotFound(referral_id)
            state, history = await self._load(conn, referral_id)
            profile = self._profiles.version(row.jurisdiction, state.policy_version)
            if request.actor.agency != profile.agencies.prosecutor:
                raise NotFound(referral_id)
            sent_to_review = next(e for e in reversed(history) if isinstance(e, EligibilityDecided))
            reviewed, decided = referrals.review(
                state, verdict=verdict, reason=reason, reviewer=request.staff, rules=sent_to_review
            )
            state, envelopes = await self._record(conn, state, [reviewed, decided], request, None)
            await self._tables.leave_review(conn, referral_id)
            return await self._settle(conn, state, request, envelopes[-1].event_id, now)

    async def withdraw(
        self, referral_id: UUID, request: Request, *, reason: str
    ) -> tables.ReferralRow:
        """By the referring officer, or a supervisor of the officer's agency."""
        now = self._clock()
        async with self._pool.acquire() as conn, conn.transaction():
            row = await self._tables.referral(conn, referral_id)
            if row is None or not _may_manage(row, request):
                raise NotFound(referral_id)
            state, _ = await self._load(conn, referral_id)
            withdrawn = referrals.withdraw(state, by=request.staff, reason=reason)
            await self._record(conn, state, [withdrawn], request, None)
            await self._tables.leave_review(conn, referral_id)
            await self._tables.leave_waitlist(conn, referral_id)
            updated = await self._tables.set_status(conn, referral_id, "withdrawn", now)
        log.info("referral withdrawn", referral_id=str(referral_id))
        return updated

    async def report_arrest(
        self, request: Request, principal: Principal, report: ArrestReport
    ) -> ArrestOutcome:
        """A new arrest reported by a person's name and date of birth. A current participant of
        the caller's jurisdiction with that person key gets a ParticipantArrestReported (which
        casework records on the case); the answer says only whether there was one. The
        look-up is an access event, in the same transaction, whatever it found."""
        role: Literal["officer", "prosecutor"] = (
            "prosecutor" if request.actor.role == "prosecutor" else "officer"
        )
        key = person_key(report.given_name, report.family_name, report.date_of_birth)
        async with self._pool.acquire() as conn, conn.transaction():
            found = await self._tables.participants_with(
                conn, jurisdiction=request.jurisdiction, person_key=key
            )
            if role == "prosecutor":
                found = [
                    (referral_id, version)
                    for referral_id, version in found
                    if self._profiles.version(request.jurisdiction, version).agencies.prosecutor
                    == request.actor.agency
                ]
            for referral_id, _ in found:
                report_id = uuid6.uuid7()
                await command_loop.append(
                    conn,
                    self._store,
                    f"arrest-report-{report_id}",
                    0,
                    [
                        ParticipantArrestReported(
                            report_id=report_id,
                            referral_id=referral_id,
                            reported_by=request.staff,
                            reporter_role=role,
                            arrested_on=report.arrested_on,
                        )
                    ],
                    command_loop.Origin(
                        request.actor, request.jurisdiction, request.correlation_id, None
                    ),
                )
            await record_lookup(
                conn,
                self._store,
                service="intake",
                who=principal,
                action="POST /arrests",
                records=[RecordRef(kind="referral", id=str(r)) for r, _ in found],
                correlation_id=request.correlation_id,
            )
        log.info("arrest reported by identifiers", matched=bool(found))
        return "recorded_for_a_participant" if found else "not_a_participant"

    async def on_case_closed(self, conn: asyncpg.Connection, delivered: Delivered) -> None:
        """A closed case frees its place: the waitlist moves up, in priority order."""
        closed = payload_of(delivered.event)
        assert isinstance(closed, CaseClosed)
        now = self._clock()
        jurisdiction = await self._tables.record_closure(conn, closed.referral_id, now)
        if jurisdiction is None:
            log.warning("closed case was never admitted here", referral_id=str(closed.referral_id))
            return
        request = Request(system_actor("intake"), jurisdiction, delivered.event.correlation_id)
        await self._fill_places(conn, jurisdiction, None, request, delivered.event.event_id, now)

    # Reads -------------------------------------------------------------------------------------

    async def referral_for(self, referral_id: UUID, request: Request) -> tables.ReferralRow:
        row = await self._tables.referral(self._pool, referral_id)
        if row is None or not _may_manage(row, request):
            raise NotFound(referral_id)
        return row

    def form_for(self, jurisdiction: str, now: datetime) -> ReferralForm:
        """The referral form of the profile in force today in the caller's jurisdiction."""
        return referral_form(self._profile_in_force(jurisdiction, now))

    # Internals ---------------------------------------------------------------------------------

    def _profile_in_force(self, jurisdiction: str, now: datetime) -> SiteProfile:
        try:
            return self._profiles.in_force(jurisdiction, now.date())
        except UnknownProfile as error:
            raise Refused("no-programme", f"{error}: this jurisdiction runs no LEAD site") from None

    async def _settle(
        self,
        conn: asyncpg.Connection,
        state: Referral,
        request: Request,
        causation_id: UUID,
        now: datetime,
    ) -> tables.ReferralRow:
        """After a decision: the read model shows it, and an eligible referral is placed."""
        if state.status == "eligible":
            placed = await self._fill_places(
                conn, request.jurisdiction, state, request, causation_id, now
            )
            assert placed is not None, "a newcomer is always admitted or waitlisted"
            return placed
        return await self._tables.set_status(conn, state.referral_id, state.status, now)

    async def _fill_places(
        self,
        conn: asyncpg.Connection,
        jurisdiction: str,
        newcomer: Referral | None,
        request: Request,
        causation_id: UUID,
        now: datetime,
    ) -> tables.ReferralRow | None:
        """Gives the site's free places to the waitlist and the newcomer in priority order; a
        newcomer without a place joins the waitlist. Capacity is the profile's in force today.
        The newcomer's row as it now stands (None without a newcomer)."""
        await self._tables.lock_site(conn, jurisdiction)
        capacity = self._profile_in_force(jurisdiction, now).capacity
        open_cases, queue = await self._tables.places_taken(conn, jurisdiction)
        free = capacity - open_cases
        if newcomer is not None:
            queue.append(Waiting(newcomer.referral_id, newcomer.door, now))
        admitted = {entry.referral_id for entry in next_admissions(queue, free)}
        newcomers_row = None
        for entry in queue:
            if entry.referral_id not in admitted:
                continue
            state = newcomer if newcomer and entry.referral_id == newcomer.referral_id else None
            if state is None:
                state, _ = await self._load(conn, entry.referral_id)
            row = await self._place(
                conn, state, jurisdiction, request, causation_id, now, has_place=True
            )
            if newcomer is not None and entry.referral_id == newcomer.referral_id:
                newcomers_row = row
        if newcomer is not None and newcomer.referral_id not in admitted:
            newcomers_row = await self._place(
                conn, newcomer, jurisdiction, request, causation_id, now, has_place=False
            )
        return newcomers_row

    async def _place(
        self,
        conn: asyncpg.Connection,
        state: Referral,
        jurisdiction: str,
        request: Request,
        causation_id: UUID,
        now: datetime,
        *,
        has_place: bool,
    ) -> tables.ReferralRow:
        placed = referrals.place(state, has_place=has_place)
        state, _ = await self._record(conn, state, [placed], request, causation_id)
        if has_place:
            await self._tables.record_admission(conn, state.referral_id, jurisdiction, now)
        else:
            await self._tables.record_waiting(
                conn, Waiting(state.referral_id, state.door, now), jurisdiction
            )
        return await self._tables.set_status(conn, state.referral_id, state.status, now)

    async def _load(
        self, conn: asyncpg.Connection, referral_id: UUID
    ) -> tuple[Referral, list[EventPayload]]:
        loaded = await command_loop.load(conn, self._store, stream_of(referral_id), _evolve, None)
        if loaded.state is None:
            raise NotFound(referral_id)
        return loaded.state, [payload_of(e) for e in loaded.events]

    async def _record(
        self,
        conn: asyncpg.Connection,
        state: Referral | None,
        payloads: Sequence[EventPayload],
        request: Request,
        causation_id: UUID | None,
    ) -> tuple[Referral, list[EventEnvelope]]:
        """Appends `payloads` to the referral's stream, each caused by the one before it."""
        referral_id = state.referral_id if state else _referral_id_of(payloads[0])
        origin = command_loop.Origin(
            request.actor, request.jurisdiction, request.correlation_id, causation_id
        )
        envelopes = await command_loop.append(
            conn,
            self._store,
            stream_of(referral_id),
            state.version if state else 0,
            payloads,
            origin,
            causation="chain",
        )
        folded = command_loop.fold(_evolve, state, payloads)
        assert folded is not None
        return folded, envelopes


def _evolve(state: Referral | None, event: EventPayload) -> Referral | None:
    return referrals.evolve(state, event)


def person_key_of(person: Person) -> str:
    return person_key(person.given_name, person.family_name, person.date_of_birth)


def _referral_id_of(payload: EventPayload) -> UUID:
    assert isinstance(payload, ReferralReceived), "a referral's stream starts with ReferralReceived"
    return payload.referral_id


def _may_manage(row: tables.ReferralRow, request: Request) -> bool:
    """The referring officer, or a supervisor of the same agency and jurisdiction."""
    if row.jurisdiction != request.jurisdiction or row.officer_agency != request.actor.agency:
        return False
    return request.actor.role == "supervisor" or row.officer_subject == request.actor.subject


__all__ = [
    "ArrestOutcome",
    "ArrestReport",
    "Intake",
    "NotFound",
    "Refused",
    "Request",
    "Status",
    "Submitted",
    "stream_of",
]

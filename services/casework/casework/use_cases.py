"""Casework's use cases, one named handler each: what a case manager, a supervisor, a liaison
prosecutor, an officer or a release's recipient asks of a case. Each builds the case's command
(`casework.domain.case`) from what it was given and the case as stored, and runs it through
the command loop (`casework.commands.Casework.run`): one transaction, the case's row locked,
decided by the decider, stored whole or refused whole. Routes only parse, call and map.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal
from uuid import NAMESPACE_URL, UUID, uuid5

import uuid6

from casework.adapters import roster
from casework.adapters.case_store import Recorded, StoredCase
from casework.commands import Casework, CommandOf, Party
from casework.domain import disclosure, releases
from casework.domain.case import (
    AssignCaseManager,
    ChangeGoal,
    CloseCase,
    CompleteIntakeAssessment,
    GrantRelease,
    LogContact,
    RecordCircumstances,
    RecordDisclosure,
    RecordProsecutorDecision,
    RecordServiceOutcome,
    ReferToService,
    ReportNewArrest,
    ReportNonCompliance,
    RevokeRelease,
)
from casework.domain.consent import CaseParties, ReleaseForm
from casework.domain.decisions import Circumstances, InvalidCommand
from casework.domain.disclosure import Disclosure, Requester
from casework.domain.releases import Release
from offramp_contracts import EventEnvelope
from offramp_contracts.events.base import StaffRef
from offramp_contracts.events.casework import (
    ClosureReason,
    ContactMethod,
    GoalChange,
    IntakeAssessment,
    Need,
    ProsecutorDecision,
    ServiceKind,
    ServiceOutcome,
)
from offramp_contracts.events.consent import RevocationMethod
from offramp_contracts.profile import SiteProfile
from servicekit.auth import Principal
from servicekit.idempotency import CommandKey, owner_of


@dataclass(frozen=True)
class Caller:
    """Who asks, under which correlation id, with which Idempotency-Key (if any)."""

    principal: Principal
    correlation_id: UUID
    key: CommandKey | None = None

    @property
    def staff(self) -> StaffRef:
        return StaffRef(subject=self.principal.subject, agency=self.principal.agency)

    def new_id(self) -> UUID:
        """The id of what a command makes (a contact, a goal, a release): derived from the
        caller and the key, so a retry names what its first attempt made."""
        if self.key is None:
            return uuid6.uuid7()
        name = "\x1f".join((owner_of(self.principal), self.key.key))
        return uuid5(NAMESPACE_URL, "offramp:casework:made:" + name)


@dataclass(frozen=True)
class Made:
    """A command that made something, and the id of what it made."""

    recorded: Recorded
    id: UUID


@dataclass(frozen=True)
class ReleaseNow:
    """A release as a command left it, and how it stood when its event was stored."""

    recorded: Recorded
    release: Release
    at: datetime
    case_closed_at: datetime | None


@dataclass(frozen=True)
class Disclosed:
    stored: EventEnvelope
    disclosure: Disclosure


def parties_of(case: StoredCase, profile: SiteProfile) -> CaseParties:
    return CaseParties(
        case_id=case.case_id,
        agency=case.agency,
        prosecutor_agency=profile.agencies.prosecutor,
        referring_agency=case.state.referring_officer.agency,
    )


def _now() -> datetime:
    return datetime.now(UTC)


class CaseCommands:
    def __init__(self, casework: Casework) -> None:
        self._cases = casework

    async def _run(
        self, case_id: UUID, caller: Caller, party: Party, command_of: CommandOf
    ) -> Recorded:
        ran = await self._cases.run(
            case_id,
            caller.principal,
            party,
            command_of,
            correlation_id=caller.correlation_id,
            key=caller.key,
        )
        return ran.recorded

    # The case manager's work ------------------------------------------------------------------

    async def complete_intake_assessment(
        self,
        caller: Caller,
        case_id: UUID,
        *,
        needs: frozenset[Need],
        notes: str,
        release_signed_on: date,
        circumstances: Circumstances | None,
    ) -> Recorded:
        """Needs assessed and the signed release recorded: the participant is enrolled."""
        at = _now()
        return await self._run(
            case_id,
            caller,
            "case_staff",
            lambda case, _: CompleteIntakeAssessment(
                assessed_by=caller.staff,
                assessment=IntakeAssessment(needs=needs, notes=notes),
                release_signed_on=release_signed_on,
                at=at,
                deadline=case.intake_deadline,
                circumstances=circumstances,
            ),
        )

    async def record_circumstances(
        self, caller: Caller, case_id: UUID, circumstances: Circumstances
    ) -> Recorded:
        command = RecordCircumstances(by=caller.staff, circumstances=circumstances)
        return await self._run(case_id, caller, "case_staff", lambda _, __: command)

    async def log_contact(
        self,
        caller: Caller,
        case_id: UUID,
        *,
        contacted_at: datetime,
        method: ContactMethod,
        notes: str,
    ) -> Made:
        contact_id = caller.new_id()
        recorded = await self._run(
            case_id,
            caller,
            "case_staff",
            lambda _, profile: LogContact(
                contact_id=contact_id,
                logged_by=caller.staff,
                contacted_at=contacted_at,
                method=method,
                notes=notes,
                inactivity_period=profile.inactivity_period,
            ),
        )
        return Made(recorded, contact_id)

    async def add_goal(self, caller: Caller, case_id: UUID, description: str) -> Made:
        goal_id = caller.new_id()
        return await self.change_goal(caller, case_id, goal_id, "added", description)

    async def change_goal(
        self, caller: Caller, case_id: UUID, goal_id: UUID, change: GoalChange, description: str
    ) -> Made:
        command = ChangeGoal(
            goal_id=goal_id, change=change, by=caller.staff, description=description
        )
        return Made(await self._run(case_id, caller, "case_staff", lambda _, __: command), goal_id)

    async def refer_to_service(
        self, caller: Caller, case_id: UUID, *, service: ServiceKind, provider: str, notes: str
    ) -> Made:
        referral_id = caller.new_id()
        command = ReferToService(
            service_referral_id=referral_id,
            service=service,
            provider=provider,
            by=caller.staff,
            notes=notes,
        )
        recorded = await self._run(case_id, caller, "case_staff", lambda _, __: command)
        return Made(recorded, referral_id)

    async def record_service_outcome(
        self,
        caller: Caller,
        case_id: UUID,
        service_referral_id: UUID,
        *,
        outcome: ServiceOutcome,
        notes: str,
    ) -> Recorded:
        command = RecordServiceOutcome(
            service_referral_id=service_referral_id,
            outcome=outcome,
            by=caller.staff,
            notes=notes,
        )
        return await self._run(case_id, caller, "case_staff", lambda _, __: command)

    async def report_non_compliance(
        self, caller: Caller, case_id: UUID, *, condition: str, details: str
    ) -> Recorded:
        """Only where the site attaches conditions, and only one of them."""
        return await self._run(
            case_id,
            caller,
            "case_staff",
            lambda _, profile: ReportNonCompliance(
                condition=condition, details=details, site_conditions=profile.conditions
            ),
        )

    async def close_case(self, caller: Caller, case_id: UUID, reason: ClosureReason) -> Recorded:
        """Graduated is the case manager's judgement; there are no fixed criteria."""
        return await self._run(case_id, caller, "case_staff", lambda _, __: CloseCase(reason))

    # The supervisor's -------------------------------------------------------------------------

    async def reassign(self, caller: Caller, case_id: UUID, case_manager: str) -> Recorded:
        """To an active case manager on the supervisor's agency's roster."""
        supervisor = caller.principal
        await self._cases.read(case_id, supervisor, "case_staff")  # another agency's: 404 first
        async with self._cases.pool.acquire() as conn:
            active = await roster.is_active(
                conn,
                jurisdiction=supervisor.jurisdiction,
                agency=supervisor.agency,
                subject=case_manager,
            )
        if not active:
            raise InvalidCommand(
                f"{case_manager} is not an active case manager of {supervisor.agency}; "
                "register them on the roster first"
            )
        return await self._run(
            case_id,
            caller,
            "case_staff",
            lambda case, _: AssignCaseManager(StaffRef(subject=case_manager, agency=case.agency)),
        )

    # Law enforcement's ------------------------------------------------------------------------

    async def record_prosecutor_decision(
        self, caller: Caller, case_id: UUID, *, decision: ProsecutorDecision, reason: str
    ) -> Recorded:
        """After a missed intake window or reported non-compliance; filing closes the case."""
        command = RecordProsecutorDecision(
            decision=decision, prosecutor=caller.staff, reason=reason
        )
        return await self._run(case_id, caller, "prosecutor", lambda _, __: command)

    async def report_new_arrest(self, caller: Caller, case_id: UUID, arrested_on: date) -> Recorded:
        role: Literal["prosecutor", "officer"] = (
            "prosecutor" if caller.principal.has_role("prosecutor") else "officer"
        )
        command = ReportNewArrest(reported_by=caller.staff, role=role, arrested_on=arrested_on)
        return await self._run(case_id, caller, "law_enforcement", lambda _, __: command)

    # Releases of information and disclosures --------------------------------------------------

    async def record_release(self, caller: Caller, case_id: UUID, form: ReleaseForm) -> ReleaseNow:
        release_id = caller.new_id()
        recorded = await self._run(
            case_id,
            caller,
            "case_staff",
            lambda case, profile: GrantRelease(
                form=form,
                parties=parties_of(case, profile),
                release_id=release_id,
                recorded_by=caller.staff,
                now=_now(),
            ),
        )
        return _release_now(recorded, release_id)

    async def revoke_release(
        self,
        caller: Caller,
        case_id: UUID,
        release_id: UUID,
        *,
        revoked_at: datetime | None,
        method: RevocationMethod,
    ) -> ReleaseNow:
        """It ends at `revoked_at` (or now); a closed case still takes it."""
        now = _now()
        recorded = await self._run(
            case_id,
            caller,
            "case_staff",
            lambda case, _: RevokeRelease(
                record=releases.consent_record(case.events),
                release_id=release_id,
                revoked_at=revoked_at or now,
                method=method,
                recorded_by=caller.staff,
                now=_now(),
            ),
        )
        return _release_now(recorded, release_id)

    async def disclose(self, caller: Caller, case_id: UUID) -> Disclosed:
        """What the releases in force that name the caller allow them to read, recorded as
        `InformationDisclosed` in the same transaction. Officers and prosecutors never."""
        asker = caller.principal
        requester = Requester(asker.subject, asker.agency, asker.roles)
        disclosure.refuse_law_enforcement(requester)

        def command_of(case: StoredCase, profile: SiteProfile) -> RecordDisclosure:
            # The clock is read under the case's row lock, after any revocation that came first.
            return RecordDisclosure(
                disclosure.disclose(
                    releases.consent_record(case.events),
                    disclosure.care_record(case.state, case.events),
                    requester,
                    parties_of(case, profile),
                    _now(),
                )
            )

        ran = await self._cases.run(
            case_id, asker, "recipient", command_of, correlation_id=caller.correlation_id
        )
        assert isinstance(ran.command, RecordDisclosure), "a disclosure is never a replay"
        (stored,) = ran.recorded.events
        return Disclosed(stored, ran.command.disclosure)


def _release_now(recorded: Recorded, release_id: UUID) -> ReleaseNow:
    """As of when its event was stored, so a retry's answer is the first attempt's."""
    record = releases.consent_record(recorded.case.events)
    (stored,) = recorded.events
    return ReleaseNow(
        recorded, record.releases[release_id], stored.occurred_at, record.case_closed_at
    )


__all__ = [
    "Caller",
    "CaseCommands",
    "Disclosed",
    "Made",
    "ReleaseNow",
    "parties_of",
]

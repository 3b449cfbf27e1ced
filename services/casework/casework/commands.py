"""Casework's command loop over a case: each command runs in one transaction on the case as
stored (its row locked), is decided by the case's decider (`casework.domain.case`), refused
whole or stored whole, and tells the case's timeline afterwards. The named use cases that build
the commands are in `casework.use_cases`.

Who may do what to a case: its case-management agency's staff (case managers and supervisors)
do the casework; the site's liaison prosecutor records decisions; officers of the referring
agency and the prosecutor report new arrests; the recipients of a release of information
receive disclosures, as far as a release in force allows (`casework.domain.disclosure`
decides). A case of another agency, like one outside the caller's jurisdiction, does not exist
for them (404, as intake answers for another agency's referral: a 403 would confirm the case and
name its agency); a party of the case in the wrong role is refused (403).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol
from uuid import UUID

import asyncpg

from casework.adapters import command_keys
from casework.adapters.case_store import CaseStore, Recorded, StoredCase, as_of
from casework.domain import case as case_decider
from casework.domain.case import CaseCommand
from casework.domain.consent import LAW_ENFORCEMENT_ROLES, RECIPIENT_ROLES
from offramp_contracts import EventEnvelope
from offramp_contracts.profile import SiteProfile
from servicekit.auth import AuthorizationError, Principal
from servicekit.idempotency import HEADER, CommandKey, owner_of
from servicekit.profiles import ProfileBook
from servicekit.refusals import Refusal

Party = Literal["case_staff", "prosecutor", "law_enforcement", "recipient"]
CommandOf = Callable[[StoredCase, SiteProfile], CaseCommand]
"""The command, as the case as stored and its site's profile make it."""


@dataclass(frozen=True)
class Ran:
    recorded: Recorded
    command: CaseCommand | None
    """What was decided now; None for a retry answered as its first attempt was."""


class CaseNotFound(Refusal, LookupError):
    status = 404
    kind = "case-not-found"
    title = "No such case"

    def __init__(self, case_id: UUID) -> None:
        super().__init__(f"there is no case {case_id} in your jurisdiction")


class IdempotencyKeyReused(Refusal):
    status = 422
    kind = "idempotency-key-reused"
    title = "Refused"

    def __init__(self, key: str) -> None:
        super().__init__(
            f"The {HEADER} {key!r} was already used for a different request; send it with a "
            "new key."
        )


class TimelineNotifier(Protocol):
    async def stored(self, case_id: UUID, events: Sequence[EventEnvelope]) -> None: ...


@dataclass(frozen=True)
class Casework:
    pool: asyncpg.Pool
    cases: CaseStore
    profiles: ProfileBook
    timeline: TimelineNotifier

    async def run(
        self,
        case_id: UUID,
        caller: Principal,
        party: Party,
        command_of: CommandOf,
        *,
        correlation_id: UUID,
        key: CommandKey | None = None,
    ) -> Ran:
        """With `key`, a retry of a command that was stored (its answer lost, and the
        middleware's claim with it) is answered as the first attempt was, storing nothing."""
        async with self.pool.acquire() as conn, conn.transaction():
            case = await self.cases.load(conn, case_id)
            if case is None or case.jurisdiction != caller.jurisdiction:
                raise CaseNotFound(case_id)
            profile = self.profile_of(case)
            role = check_party(caller, party, case, profile)
            if key is not None:
                earlier = await command_keys.claim(
                    conn,
                    owner=owner_of(caller),
                    key=key.key,
                    fingerprint=key.fingerprint,
                    case_id=case_id,
                    version=case.version,
                )
                if earlier is not None:
                    return Ran(_replayed(case, earlier, key), None)
            command = command_of(case, profile)
            recorded = await self.cases.record(
                conn,
                case,
                case_decider.decide(command, case.state),
                actor=caller.acting_as(role),
                correlation_id=correlation_id,
                causation_id=None,
            )
            if key is not None:
                await command_keys.settle(
                    conn, owner=owner_of(caller), key=key.key, version=recorded.case.version
                )
        await self.timeline.stored(case_id, recorded.events)
        return Ran(recorded, command)

    async def read(self, case_id: UUID, caller: Principal, party: Party) -> StoredCase:
        async with self.pool.acquire() as conn, conn.transaction(readonly=True):
            case = await self.cases.load(conn, case_id, lock=False)
        if case is None or case.jurisdiction != caller.jurisdiction:
            raise CaseNotFound(case_id)
        check_party(caller, party, case, self.profile_of(case))
        return case

    async def agency_cases(self, staff: Principal) -> list[asyncpg.Record]:
        """The cases of the caller's own agency in the caller's jurisdiction, newest first:
        read-model rows."""
        return list(
            await self.pool.fetch(
                """SELECT case_id, referral_id, door, status, phase, case_manager, opened_at,
                          intake_deadline, last_contact_at FROM cases
                   WHERE jurisdiction = $1 AND case_agency = $2 ORDER BY opened_at DESC""",
                staff.jurisdiction,
                staff.agency,
            )
        )

    async def diversions_for(self, prosecutor: Principal) -> list[asyncpg.Record]:
        """The arrest diversions of the caller's jurisdiction whose site names the caller's
        office as its liaison prosecutor, newest first: read-model rows, coarse columns only."""
        rows = await self.pool.fetch(
            """SELECT case_id, referral_id, policy_version, status, opened_at, intake_deadline,
                      intake_window
               FROM cases WHERE jurisdiction = $1 AND door = 'arrest_diversion'
               ORDER BY opened_at DESC""",
            prosecutor.jurisdiction,
        )
        return [
            row
            for row in rows
            if self.profiles.version(
                prosecutor.jurisdiction, row["policy_version"]
            ).agencies.prosecutor
            == prosecutor.agency
        ]

    def profile_of(self, case: StoredCase) -> SiteProfile:
        return self.profiles.version(case.jurisdiction, case.state.policy_version)


def _replayed(case: StoredCase, earlier: command_keys.Claimed, key: CommandKey) -> Recorded:
    if (earlier.fingerprint, earlier.case_id) != (key.fingerprint, case.case_id):
        raise IdempotencyKeyReused(key.key)
    events = list(case.events[earlier.version_before : earlier.version_after])
    return Recorded(as_of(case, earlier.version_after), events, replayed=True)


def check_party(caller: Principal, party: Party, case: StoredCase, profile: SiteProfile) -> str:
    """The role the caller acts in, or AuthorizationError if they are not that party."""
    if party == "recipient":
        # Whether a release names the caller is the decision's business; here only the role.
        for role in RECIPIENT_ROLES:
            if caller.has_role(role) and not caller.has_role(*LAW_ENFORCEMENT_ROLES):
                return role
        raise AuthorizationError(f"only {', '.join(RECIPIENT_ROLES)} may receive a disclosure")
    if party == "case_staff":
        if case.agency != caller.agency:
            raise CaseNotFound(case.case_id)
        return "supervisor" if caller.has_role("supervisor") else "case_manager"
    if caller.has_role("prosecutor"):
        if caller.agency != profile.agencies.prosecutor:
            raise CaseNotFound(case.case_id)
        return "prosecutor"
    if party == "law_enforcement" and caller.has_role("officer"):
        # Any officer of the referring agency (not only the one who referred): a colleague may
        # make the new arrest. Another agency's officers never touch the case.
        if caller.agency != case.state.referring_officer.agency:
            raise CaseNotFound(case.case_id)
        return "officer"
    raise AuthorizationError("only the site's liaison prosecutor may do this")

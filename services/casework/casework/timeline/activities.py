"""The timeline's activities. Each one decides on the case as stored (its row locked), so a
timer that fires after a contact, an assessment or a closing does nothing; and each event it
appends has an id derived from the workflow and the step, so a retry cannot append twice."""

from collections.abc import Callable

import asyncpg
from temporalio import activity

from casework.adapters import roster
from casework.adapters.case_store import CaseStore, Recorded, StoredCase
from casework.domain import case as case_decider
from casework.domain import decisions
from casework.domain.assignment import NoCaseManagers, least_loaded
from casework.domain.case import (
    AssignCaseManager,
    BecomeInactive,
    CaseCommand,
    MissIntakeWindow,
    ReportProgress,
)
from casework.timeline.model import TimelineFacts, TimelineStep
from offramp_contracts.events.base import EventPayload, StaffRef
from offramp_contracts.events.casework import CaseOpened
from offramp_contracts.lifecycle import CaseState
from servicekit.events import derived_event_id, system_actor

ACTOR = system_actor("casework")


def facts_of(state: CaseState) -> TimelineFacts:
    """What the timeline needs to know of a case in this state."""
    return TimelineFacts(
        closed=not state.is_open,
        intake_done=state.phase != "intake",
        intake_window_missed=state.intake_window_missed,
        inactive=state.inactive,
        last_contact_at=state.last_contact_at,
        progress_reports=state.progress_reports,
    )


class CaseActivities:
    def __init__(self, pool: asyncpg.Pool, cases: CaseStore) -> None:
        self._pool = pool
        self._cases = cases

    @activity.defn(name="open_case")
    async def open_case(self, step: TimelineStep) -> TimelineFacts:
        start, policy = step.start, step.start.policy
        opened = CaseOpened(
            case_id=start.case_id,
            referral_id=start.referral_id,
            door=start.door,
            referring_officer=start.referring_officer,
            policy_version=start.policy_version,
        )
        async with self._pool.acquire() as conn, conn.transaction():
            existing = await self._cases.load(conn, start.case_id)
            if existing is not None:
                activity.logger.info("case %s was opened by an earlier attempt", start.case_id)
                return facts_of(existing.state)
            # Two attempts racing here cannot both commit: the second collides on the case's
            # row or its CaseOpened, fails, and its retry finds the case above.
            case = await self._cases.open(
                conn,
                opened,
                jurisdiction=start.jurisdiction,
                agency=policy.case_management_agency,
                opened_at=step.at,
                intake_deadline=decisions.intake_deadline(
                    start.door, step.at, policy.intake_window
                ),
                actor=ACTOR,
                correlation_id=start.correlation_id,
                causation_id=start.causation_id,
                event_id=derived_event_id(f"{step.workflow_id}/CaseOpened", step.at),
            )
        return facts_of(case.state)

    @activity.defn(name="assign_case_manager")
    async def assign_case_manager(self, step: TimelineStep) -> str | None:
        """The active case manager of the site's agency with the fewest open cases; None if
        the roster is empty (the case waits, visible to supervisors, for them to assign it)."""
        start = step.start
        agency = start.policy.case_management_agency
        async with self._pool.acquire() as conn, conn.transaction():
            # Serialise assignments within the agency so that two cases opened together do not
            # both see the same least-loaded case manager.
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext('assign:' || $1 || ':' || $2))",
                start.jurisdiction,
                agency,
            )
            case = await self._require(conn, step)
            if case.state.case_manager is not None:
                return case.state.case_manager.subject  # an earlier attempt, or a supervisor
            if not case.state.is_open:
                # Closed before this step ran (it came late, after a killed worker's timeout):
                # a closed case takes no assignment, and refusing it would retry forever.
                return None
            entries = await roster.roster(conn, jurisdiction=start.jurisdiction, agency=agency)
            try:
                chosen = least_loaded(
                    [e.subject for e in entries if e.active],
                    {e.subject: e.open_cases for e in entries},
                )
            except NoCaseManagers:
                activity.logger.warning(
                    "no active case managers in %s; case %s waits for a supervisor",
                    agency,
                    start.case_id,
                )
                return None
            payloads = case_decider.decide(
                AssignCaseManager(StaffRef(subject=chosen, agency=agency)), case.state
            )
            # Its one event's id ends in /1, as it always has (the timed steps count from 0).
            await self._record(conn, case, payloads, step, ["CaseManagerAssigned/1"])
        return chosen

    @activity.defn(name="miss_intake_window")
    async def miss_intake_window(self, step: TimelineStep) -> TimelineFacts:
        return await self._timed(
            step,
            "IntakeWindowMissed",
            lambda case: MissIntakeWindow(deadline=step.at),
        )

    @activity.defn(name="mark_inactive")
    async def mark_inactive(self, step: TimelineStep) -> TimelineFacts:
        period = step.start.policy.inactivity_period
        return await self._timed(
            step,
            "ClientBecameInactive",
            lambda case: BecomeInactive(opened_at=case.opened_at, period=period, at=step.at),
        )

    @activity.defn(name="report_progress")
    async def report_progress(self, step: TimelineStep) -> TimelineFacts:
        return await self._timed(
            step,
            f"ProgressReportDue/{step.number}",
            lambda case: ReportProgress(step.number),
        )

    async def _timed(
        self, step: TimelineStep, key: str, command_of: Callable[[StoredCase], CaseCommand]
    ) -> TimelineFacts:
        async with self._pool.acquire() as conn, conn.transaction():
            case = await self._require(conn, step)
            payloads = case_decider.decide(command_of(case), case.state)
            names = [f"{key}/{i}" for i in range(len(payloads))]
            recorded = await self._record(conn, case, payloads, step, names)
        if recorded.events:
            activity.logger.info("%s for case %s", key, step.start.case_id)
        return facts_of(recorded.case.state)

    async def _record(
        self,
        conn: asyncpg.Connection,
        case: StoredCase,
        payloads: list[EventPayload],
        step: TimelineStep,
        names: list[str],
    ) -> Recorded:
        """Casework acting on its own at the step's moment, in the run of its start; each
        event's id derived from the workflow and its `names`, so a retry cannot append twice."""
        start = step.start
        return await self._cases.record(
            conn,
            case,
            payloads,
            actor=ACTOR,
            correlation_id=start.correlation_id,
            causation_id=start.causation_id,
            occurred_at=step.at,
            event_ids=[derived_event_id(f"{step.workflow_id}/{name}", step.at) for name in names],
        )

    async def _require(self, conn: asyncpg.Connection, step: TimelineStep) -> StoredCase:
        case = await self._cases.load(conn, step.start.case_id)
        if case is None:
            raise RuntimeError(f"case {step.start.case_id} is not open yet")
        return case

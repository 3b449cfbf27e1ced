"""The timeline's activities: each appends its event at most once, whatever Temporal retries."""

from uuid import UUID

import asyncpg
from temporalio import activity

from casework.domain.assignment import least_loaded
from casework.timeline.model import TimelineStep
from offramp_contracts.events.base import StaffRef
from offramp_contracts.events.casework import CaseManagerAssigned, CaseOpened
from servicekit.events import derived_event_id, new_event, system_actor
from servicekit.eventstore import ConcurrencyError, EventAlreadyStored, EventStore


def stream_of(case_id: UUID) -> str:
    return f"case-{case_id}"


class CaseActivities:
    def __init__(
        self,
        pool: asyncpg.Pool,
        store: EventStore,
        *,
        case_management_agency: str,
        case_managers: list[str],
    ) -> None:
        self._pool = pool
        self._store = store
        self._agency = case_management_agency
        self._case_managers = case_managers

    @activity.defn(name="open_case")
    async def open_case(self, step: TimelineStep) -> None:
        start = step.start
        event = new_event(
            CaseOpened(
                case_id=start.case_id,
                referral_id=start.referral_id,
                door=start.door,
                referring_officer=start.referring_officer,
                policy_version=start.policy_version,
            ),
            stream_id=stream_of(start.case_id),
            stream_version=1,
            jurisdiction=start.jurisdiction,
            actor=system_actor("casework"),
            correlation_id=start.correlation_id,
            causation_id=start.causation_id,
            occurred_at=step.at,
            event_id=derived_event_id(f"{step.workflow_id}/CaseOpened", step.at),
        )
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                await self._store.append(conn, event.stream_id, 0, [event])
                await conn.execute(
                    """INSERT INTO cases (case_id, referral_id, jurisdiction, door,
                                          referring_subject, referring_agency, policy_version,
                                          status, opened_at)
                       VALUES ($1, $2, $3, $4, $5, $6, $7, 'opened', $8)""",
                    start.case_id,
                    start.referral_id,
                    start.jurisdiction,
                    start.door,
                    start.referring_officer.subject,
                    start.referring_officer.agency,
                    start.policy_version,
                    step.at,
                )
        except (EventAlreadyStored, ConcurrencyError):
            activity.logger.info("case %s was already opened by an earlier attempt", start.case_id)

    @activity.defn(name="assign_case_manager")
    async def assign_case_manager(self, step: TimelineStep) -> str:
        start = step.start
        event_id = derived_event_id(f"{step.workflow_id}/CaseManagerAssigned/1", step.at)
        stream_id = stream_of(start.case_id)
        async with self._pool.acquire() as conn, conn.transaction():
            if await self._store.contains(conn, event_id):
                # An earlier attempt assigned and committed; report whom it chose.
                return str(
                    await conn.fetchval(
                        "SELECT case_manager FROM cases WHERE case_id = $1", start.case_id
                    )
                )
            # Serialise assignments within the agency so that two cases opened together do not
            # both see the same least-loaded case manager.
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext('assign:' || $1))", self._agency
            )
            loads = await conn.fetch(
                """SELECT case_manager, count(*) AS open_cases FROM cases
                   WHERE case_agency = $1 AND status <> 'closed' GROUP BY case_manager""",
                self._agency,
            )
            chosen = least_loaded(
                self._case_managers, {r["case_manager"]: r["open_cases"] for r in loads}
            )
            version = await self._store.stream_version(conn, stream_id)
            event = new_event(
                CaseManagerAssigned(
                    case_id=start.case_id,
                    case_manager=StaffRef(subject=chosen, agency=self._agency),
                ),
                stream_id=stream_id,
                stream_version=version + 1,
                jurisdiction=start.jurisdiction,
                actor=system_actor("casework"),
                correlation_id=start.correlation_id,
                causation_id=start.causation_id,
                occurred_at=step.at,
                event_id=event_id,
            )
            await self._store.append(conn, stream_id, version, [event])
            await conn.execute(
                """UPDATE cases SET case_manager = $2, case_agency = $3, status = 'assigned'
                   WHERE case_id = $1""",
                start.case_id,
                chosen,
                self._agency,
            )
        return chosen

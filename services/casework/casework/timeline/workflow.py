"""CaseTimeline: one workflow per case owns the case's time.

It opens the case, has a case manager assigned, then sleeps until the next of its deadlines:
the intake window's end (arrest diversions only), the next progress report, the end of the
inactivity period. At each it runs an activity that decides on the case as stored and returns
the case's timeline facts, so the workflow never acts on a stale picture for long. Signals
(`fact_recorded`) only wake it early when a contact, an assessment or the closing was stored;
they carry event ids and a repeated one is ignored. The closing ends the workflow. The `facts`
query tells what the workflow holds true of its case.

Deterministic: times come from `workflow.now()` and from the facts in the history; durations
come in the start input, resolved from the case's profile version when it opened. Imports are
kept to the minimum the sandbox has to re-import on every run.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from casework.timeline.activities import CaseActivities
    from casework.timeline.model import (
        FACT_SIGNAL,
        FACTS_QUERY,
        WORKFLOW_NAME,
        CaseFact,
        TimelineFacts,
        TimelineStart,
        TimelineStep,
    )

# Activities decide on the stored case and append idempotently, so retrying them until the
# database answers is safe. A short timeout brings a step lost with a killed worker back soon.
_STEP_TIMEOUT = timedelta(seconds=10)
_STEP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)


@workflow.defn(name=WORKFLOW_NAME)
class CaseTimeline:
    def __init__(self) -> None:
        self._facts = TimelineFacts()
        self._seen: set[UUID] = set()
        self._woken = False

    @workflow.run
    async def run(self, start: TimelineStart) -> str:
        opened_at = workflow.now()
        policy = start.policy
        step = self._stepper(start, workflow.info().workflow_id)
        self._absorb(await self._act(CaseActivities.open_case, step(opened_at)))
        await self._act(CaseActivities.assign_case_manager, step(opened_at))

        intake_deadline = (
            opened_at + policy.intake_window
            if start.door == "arrest_diversion" and policy.intake_window is not None
            else None
        )
        while not self._facts.closed:
            facts = self._facts
            next_report_at = opened_at + policy.progress_report_interval * (
                facts.progress_reports + 1
            )
            intake_due = None
            if intake_deadline and not (facts.intake_done or facts.intake_window_missed):
                intake_due = intake_deadline
            inactive_at = None
            if not facts.inactive:
                inactive_at = (facts.last_contact_at or opened_at) + policy.inactivity_period
            due = min(d for d in (next_report_at, intake_due, inactive_at) if d is not None)
            if not await self._sleep_until(due):
                continue  # woken by a stored fact: work the deadlines out again
            now = workflow.now()
            if intake_due is not None and now >= intake_due:
                self._absorb(await self._act(CaseActivities.miss_intake_window, step(intake_due)))
            if inactive_at is not None and now >= inactive_at and not self._facts.closed:
                self._absorb(await self._act(CaseActivities.mark_inactive, step(inactive_at)))
            if now >= next_report_at and not self._facts.closed:
                number = self._facts.progress_reports + 1
                self._absorb(
                    await self._act(
                        CaseActivities.report_progress, step(next_report_at, number=number)
                    )
                )
        return "closed"

    @workflow.query(name=FACTS_QUERY)
    def facts(self) -> TimelineFacts:
        """What the timeline holds true of its case now; operators and the fault-injection
        tests compare it with the case's stored events."""
        return self._facts

    @workflow.signal(name=FACT_SIGNAL)
    def fact_recorded(self, fact: CaseFact) -> None:
        if fact.event_id in self._seen:
            return
        self._seen.add(fact.event_id)
        facts = self._facts
        if fact.kind == "contact":
            latest = (
                fact.at if facts.last_contact_at is None else max(fact.at, facts.last_contact_at)
            )
            self._facts = facts.model_copy(update={"last_contact_at": latest, "inactive": False})
        elif fact.kind == "intake_assessed":
            self._facts = facts.model_copy(update={"intake_done": True})
        elif fact.kind == "closed":
            self._facts = facts.model_copy(update={"closed": True})
        self._woken = True

    def _absorb(self, read: TimelineFacts) -> None:
        """Merge what an activity read from the store with what signals said meanwhile: the
        flags only ever turn on, and a contact signalled after the read is the later one."""
        known = self._facts
        newer_contact = known.last_contact_at is not None and (
            read.last_contact_at is None or known.last_contact_at > read.last_contact_at
        )
        self._facts = TimelineFacts(
            closed=read.closed or known.closed,
            intake_done=read.intake_done or known.intake_done,
            intake_window_missed=read.intake_window_missed or known.intake_window_missed,
            inactive=read.inactive and not newer_contact,
            last_contact_at=known.last_contact_at if newer_contact else read.last_contact_at,
            progress_reports=max(read.progress_reports, known.progress_reports),
        )

    async def _sleep_until(self, due: datetime) -> bool:
        """True when `due` came, False when a signal woke the workflow first."""
        self._woken = False
        remaining = (due - workflow.now()).total_seconds()
        if remaining <= 0:
            return True
        try:
            await workflow.wait_condition(lambda: self._woken, timeout=remaining)
        except TimeoutError:
            return True
        return False

    @staticmethod
    def _stepper(start: TimelineStart, workflow_id: str) -> Callable[..., TimelineStep]:
        def step(at: datetime, number: int = 0) -> TimelineStep:
            return TimelineStep(start=start, workflow_id=workflow_id, at=at, number=number)

        return step

    @staticmethod
    async def _act(activity: Callable[..., Awaitable[Any]], step: TimelineStep) -> Any:
        return await workflow.execute_activity_method(
            activity, step, start_to_close_timeout=_STEP_TIMEOUT, retry_policy=_STEP_RETRY
        )

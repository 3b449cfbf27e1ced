"""CaseTimeline: one workflow per case owns the case's time.

It never decides facts on its own: it acts through activities that append events with ids
derived from the workflow id and the step, so a retried activity cannot append twice. Imports
are kept to the minimum the sandbox has to re-import on every run.
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from casework.timeline.activities import CaseActivities
    from casework.timeline.model import WORKFLOW_NAME, TimelineStart, TimelineStep

# Activities append idempotently, so retrying them until the database answers is safe.
_STEP_TIMEOUT = timedelta(seconds=30)
_STEP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)


@workflow.defn(name=WORKFLOW_NAME)
class CaseTimeline:
    def __init__(self) -> None:
        self._closed = False

    @workflow.run
    async def run(self, start: TimelineStart) -> str:
        step = TimelineStep(start=start, workflow_id=workflow.info().workflow_id, at=workflow.now())
        for activity in (CaseActivities.open_case, CaseActivities.assign_case_manager):
            await workflow.execute_activity_method(
                activity, step, start_to_close_timeout=_STEP_TIMEOUT, retry_policy=_STEP_RETRY
            )
        # The intake window, progress reports and inactivity timers live here (casework issue).
        await workflow.wait_condition(lambda: self._closed)
        return "closed"

    @workflow.signal(name="case_closed")
    def case_closed(self) -> None:
        self._closed = True

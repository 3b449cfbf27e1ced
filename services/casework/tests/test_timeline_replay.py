"""Recorded CaseTimeline histories replay against today's workflow code, so a change that would
break running timelines (a non-deterministic edit) fails here before it reaches a server.

The histories under `histories/` were recorded by `tests/casework/test_timeline.py` on the real
Temporal server (`OFFRAMP_RECORD_HISTORIES=1`). Keep them: a workflow change that needs new
histories is a change that running cases cannot survive without a versioned migration."""

from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner

from casework.timeline.activities import CaseActivities
from casework.timeline.model import TimelineStart, TimelineStep
from casework.timeline.workflow import CaseTimeline

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def recorded(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, path.read_text())


def test_histories_were_recorded_for_each_timeline_path() -> None:
    assert {p.stem for p in HISTORIES} >= {
        "intake-met",
        "intake-missed",
        "inactivity-and-return",
        "progress-reports",
    }


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_a_recorded_history_replays_deterministically(path: Path) -> None:
    replayer = Replayer(workflows=[CaseTimeline], data_converter=pydantic_data_converter)
    await replayer.replay_workflow(recorded(path))


@workflow.defn(name="CaseTimeline")
class ReorderedTimeline:
    """CaseTimeline with its first two steps swapped: what a careless edit looks like."""

    @workflow.run
    async def run(self, start: TimelineStart) -> str:
        step = TimelineStep(start=start, workflow_id=workflow.info().workflow_id, at=workflow.now())
        for activity in (CaseActivities.assign_case_manager, CaseActivities.open_case):
            await workflow.execute_activity_method(
                activity, step, start_to_close_timeout=timedelta(seconds=10)
            )
        return "closed"


async def test_a_non_deterministic_change_fails_the_replay() -> None:
    replayer = Replayer(
        workflows=[ReorderedTimeline],
        data_converter=pydantic_data_converter,
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    with pytest.raises(workflow.NondeterminismError):
        await replayer.replay_workflow(recorded(HISTORIES[0]))

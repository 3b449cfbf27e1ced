"""The case timeline on the real Temporal dev server, with Pontiac's durations cut to seconds:
the intake window met and missed, inactivity and the return from it, progress reports. Each
test replays the history it produced, and can save it for the replay test of recorded
histories (OFFRAMP_RECORD_HISTORIES=1)."""

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from casework.timeline.model import workflow_id_for
from casework.timeline.workflow import CaseTimeline
from offramp_contracts.events.casework import (
    ClientBecameInactive,
    IntakeWindowMissed,
    ProgressReportDue,
)
from tests.casework.harness import Casework
from tests.profiles import customised_profiles

INTAKE_WINDOW = timedelta(seconds=4)
REPORT_INTERVAL = timedelta(seconds=3)
INACTIVITY = timedelta(seconds=6)
HISTORIES = Path(__file__).resolve().parents[2] / "services/casework/tests/histories"


@pytest.fixture
def profiles_dir(tmp_path: Path) -> Path:
    return customised_profiles(
        tmp_path / "profiles",
        {
            "pontiac.toml": {
                'intake_window = "P14D"': f"intake_window = {INTAKE_WINDOW.seconds}",
                'progress_report_interval = "P30D"': (
                    f"progress_report_interval = {REPORT_INTERVAL.seconds}"
                ),
                'inactivity_period = "P60D"': f"inactivity_period = {INACTIVITY.seconds}",
            }
        },
    )


@pytest.fixture
async def temporal(servers: Any) -> AsyncIterator[Client]:
    yield await Client.connect(servers.temporal.address, data_converter=pydantic_data_converter)


def timeline(temporal: Client, case_id: UUID) -> WorkflowHandle[Any, Any]:
    return temporal.get_workflow_handle(workflow_id_for(case_id))


async def replay_and_keep(handle: WorkflowHandle[Any, Any], name: str) -> None:
    """Replays the live history against today's workflow code; saves it when asked, so the
    recorded-history replay test catches tomorrow's non-deterministic change."""
    history = await handle.fetch_history()
    replayer = Replayer(workflows=[CaseTimeline], data_converter=pydantic_data_converter)
    await replayer.replay_workflow(history)
    if os.environ.get("OFFRAMP_RECORD_HISTORIES"):
        HISTORIES.mkdir(parents=True, exist_ok=True)
        (HISTORIES / f"{name}.json").write_text(history.to_json())


async def close(casework: Casework, case_id: UUID, handle: WorkflowHandle[Any, Any]) -> None:
    async with casework.staff() as http:
        response = await http.post(f"/cases/{case_id}/closure", json={"reason": "graduated"})
    assert response.status_code == 200, response.text
    assert await handle.result() == "closed"


async def opened_at(casework: Casework, case_id: UUID) -> datetime:
    return (await casework.events(case_id))[0].occurred_at


async def view(casework: Casework, case_id: UUID) -> dict[str, Any]:
    async with casework.staff() as http:
        response = await http.get(f"/cases/{case_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_an_assessment_within_the_window_enrols_and_no_window_is_missed(
    casework: Casework, temporal: Client
) -> None:
    await casework.register("cm-1")
    case_id = await casework.admit("arrest_diversion")
    await casework.opened(case_id)
    async with casework.staff() as http:
        response = await http.post(
            f"/cases/{case_id}/intake-assessment",
            json={"needs": ["housing"], "release_signed_on": datetime.now(UTC).date().isoformat()},
        )
    assert response.status_code == 200, response.text
    (assessed,) = await casework.payloads(case_id, "IntakeAssessmentCompleted")
    assert assessed.within_intake_window is True
    case = await view(casework, case_id)
    assert datetime.fromisoformat(case["intake_deadline"]) == (
        await opened_at(casework, case_id) + INTAKE_WINDOW
    )

    # The second report is due after the window ended: by then a miss would have been stored.
    await casework.wait_for_event(case_id, "ProgressReportDue", count=2)
    assert await casework.payloads(case_id, "IntakeWindowMissed") == []
    assert (await view(casework, case_id))["phase"] == "enrolled"
    handle = timeline(temporal, case_id)
    await close(casework, case_id, handle)
    await replay_and_keep(handle, "intake-met")


async def test_a_missed_window_returns_the_case_to_the_prosecutor_and_files_nothing(
    casework: Casework, temporal: Client
) -> None:
    await casework.register("cm-1")
    arrest = await casework.admit("arrest_diversion")
    social = await casework.admit("social_contact")

    (missed,) = await casework.wait_for_event(arrest, "IntakeWindowMissed")
    assert isinstance(missed, IntakeWindowMissed)
    assert missed.window_ended_at == await opened_at(casework, arrest) + INTAKE_WINDOW
    case = await view(casework, arrest)
    assert case["phase"] == "intake" and case["closure_reason"] is None
    assert case["awaiting_prosecutor"] == "intake_window_missed"
    assert case["coarse_status"] == "not_engaged"
    assert await casework.payloads(arrest, "ProsecutorDecisionRecorded") == []

    # A social contact has no window at all.
    await casework.wait_for_event(social, "ProgressReportDue", count=2)
    assert await casework.payloads(social, "IntakeWindowMissed") == []

    prosecutor = casework.client(casework.token("p-1", "prosecutor", "oakland-prosecutor"))
    async with prosecutor, casework.staff() as http:
        decided = await prosecutor.post(
            f"/cases/{arrest}/prosecutor-decision", json={"decision": "continue"}
        )
        assert decided.status_code == 200, decided.text
        late = await http.post(
            f"/cases/{arrest}/intake-assessment",
            json={"needs": ["food"], "release_signed_on": datetime.now(UTC).date().isoformat()},
        )
        assert late.status_code == 200, late.text
    (assessed,) = await casework.payloads(arrest, "IntakeAssessmentCompleted")
    assert assessed.within_intake_window is False
    assert len(await casework.payloads(arrest, "IntakeWindowMissed")) == 1
    handle = timeline(temporal, arrest)
    await close(casework, arrest, handle)
    await replay_and_keep(handle, "intake-missed")


async def test_inactivity_keeps_the_participant_enrolled_and_the_next_contact_ends_it(
    casework: Casework, temporal: Client
) -> None:
    await casework.register("cm-1")
    case_id = await casework.admit("social_contact")
    await casework.opened(case_id)

    async def contact() -> tuple[datetime, list[str]]:
        at = datetime.now(UTC)
        async with casework.staff() as http:
            response = await http.post(
                f"/cases/{case_id}/contacts",
                json={"contacted_at": at.isoformat(), "method": "phone"},
            )
        assert response.status_code == 201, response.text
        return at, response.json()["stored"]

    first_at, stored = await contact()
    assert stored == ["ContactLogged", "ClientEngaged"]
    (inactive,) = await casework.wait_for_event(case_id, "ClientBecameInactive")
    assert isinstance(inactive, ClientBecameInactive)
    assert inactive.last_contact_at == first_at
    assert inactive.inactive_since == first_at + INACTIVITY
    case = await view(casework, case_id)
    assert case["inactive"] and case["phase"] == "intake" and case["coarse_status"] == "not_engaged"

    second_at, stored = await contact()
    assert stored == ["ContactLogged", "ClientBecameActive"]
    assert (await view(casework, case_id))["coarse_status"] == "engaged"
    # The period starts again from the new contact, not from the old one.
    _, again = await casework.wait_for_event(case_id, "ClientBecameInactive", count=2)
    assert isinstance(again, ClientBecameInactive)
    assert again.inactive_since == second_at + INACTIVITY
    assert await casework.payloads(case_id, "CaseClosed") == []
    handle = timeline(temporal, case_id)
    await close(casework, case_id, handle)
    await replay_and_keep(handle, "inactivity-and-return")


async def test_progress_reports_come_every_interval_with_the_coarse_status_only(
    casework: Casework, temporal: Client
) -> None:
    await casework.register("cm-1")
    case_id = await casework.admit("social_contact")
    (first,) = await casework.wait_for_event(case_id, "ProgressReportDue")
    assert isinstance(first, ProgressReportDue)
    assert first.coarse_status == "working_with_case_manager"
    async with casework.staff() as http:
        response = await http.post(
            f"/cases/{case_id}/contacts",
            json={
                "contacted_at": datetime.now(UTC).isoformat(),
                "method": "in_person",
                "notes": "detox talk",
            },
        )
    assert response.status_code == 201, response.text
    await casework.wait_for_event(case_id, "ProgressReportDue", count=2)

    handle = timeline(temporal, case_id)
    await close(casework, case_id, handle)
    opened = await opened_at(casework, case_id)
    reports = [e for e in await casework.events(case_id) if e.event_type == "ProgressReportDue"]
    assert [r.data["report_number"] for r in reports] == list(range(1, len(reports) + 1))
    assert reports[1].data["coarse_status"] == "engaged"
    for number, report in enumerate(reports, start=1):
        assert report.occurred_at == opened + REPORT_INTERVAL * number
        # The Golden Rule: nothing but the coarse status and whom it is for.
        assert set(report.data) == {
            "case_id",
            "referral_id",
            "referring_officer",
            "report_number",
            "coarse_status",
        }
    description = await handle.describe()
    assert description.status == WorkflowExecutionStatus.COMPLETED
    await replay_and_keep(handle, "progress-reports")

"""Killing the casework process in the middle of a case's timeline and starting it again loses
nothing and duplicates nothing: Temporal keeps the timers, the restarted worker replays the
history, and every event the timeline appends has an id derived from its step.

Casework runs here as its own process (`offramp-casework serve`), so the kill is a real SIGKILL:
no shutdown hooks, no graceful worker stop."""

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
from nats.aio.client import Client as NATS
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from casework.bootstrap import ADMITTED_CONSUMER
from casework.timeline.model import workflow_id_for
from offramp_contracts import EventEnvelope, payload_of
from offramp_contracts.events.casework import IntakeWindowMissed
from offramp_devstack import ServiceProcess, free_port
from servicekit.auth import LocalIssuer
from tests.casework.harness import PONTIAC_CM_AGENCY, admit
from tests.conftest import wait_for
from tests.profiles import customised_profiles

REPORT_INTERVAL = timedelta(seconds=2)
INTAKE_WINDOW = timedelta(seconds=5)
REPO = Path(__file__).resolve().parents[2]


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
            }
        },
    )


@pytest.fixture
async def casework_process(
    servers: Any, isolation: Any, tmp_path: Path
) -> AsyncIterator[ServiceProcess]:
    settings = {**isolation.settings(servers), "log_json": False}
    process = ServiceProcess(
        "casework",
        port=free_port(),
        env={f"OFFRAMP_{k.upper()}": str(v) for k, v in settings.items()},
        log_path=tmp_path / "casework.log",
        cwd=REPO,
    )
    try:
        yield process
    finally:
        await process.stop()


@pytest.fixture
async def db(isolation: Any) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(
        isolation.database_url, server_settings={"search_path": "casework"}
    )
    try:
        yield conn
    finally:
        await conn.close()


async def stored(db: asyncpg.Connection, case_id: UUID) -> list[EventEnvelope]:
    rows = await db.fetch(
        "SELECT envelope FROM events WHERE stream_id = $1 ORDER BY stream_version",
        f"case-{case_id}",
    )
    return [EventEnvelope.model_validate_json(row["envelope"]) for row in rows]


async def test_a_killed_worker_restarts_the_timeline_losing_and_duplicating_nothing(
    casework_process: ServiceProcess,
    db: asyncpg.Connection,
    servers: Any,
    isolation: Any,
    nats_client: NATS,
) -> None:
    issuer = LocalIssuer(isolation.key_path, issuer="offramp-local", audience="offramp")
    await casework_process.start()

    def as_staff(subject: str, role: str) -> httpx.AsyncClient:
        token = issuer.issue(
            subject=subject, roles=[role], agency=PONTIAC_CM_AGENCY, jurisdiction="pontiac"
        )
        return httpx.AsyncClient(
            base_url=casework_process.url, headers={"Authorization": f"Bearer {token}"}
        )

    async with as_staff("sup-1", "supervisor") as http:
        assert (await http.put("/case-managers/cm-1")).status_code == 204
    case_id = await admit(nats_client, isolation, "arrest_diversion")

    async def reports(at_least: int) -> list[EventEnvelope] | None:
        found = [e for e in await stored(db, case_id) if e.event_type == "ProgressReportDue"]
        return found if len(found) >= at_least else None

    await wait_for(lambda: reports(1), timeout=30, what="the first progress report")
    casework_process.kill()
    # While it is down the next report and the intake window's end come due.
    await casework_process.start()
    await wait_for(lambda: reports(5), timeout=60, what="five progress reports after the restart")

    async with as_staff("cm-1", "case_manager") as http:
        closed = await http.post(f"/cases/{case_id}/closure", json={"reason": "transferred"})
    assert closed.status_code == 200, closed.text
    temporal = await Client.connect(
        servers.temporal.address, data_converter=pydantic_data_converter
    )
    handle = temporal.get_workflow_handle(workflow_id_for(case_id))
    assert await handle.result() == "closed"

    events = await stored(db, case_id)
    types = [e.event_type for e in events]
    assert len({e.event_id for e in events}) == len(events)
    assert types.count("CaseOpened") == 1
    assert types.count("CaseManagerAssigned") == 1
    assert types.count("IntakeWindowMissed") == 1
    assert types.count("CaseClosed") == 1
    opened_at = events[0].occurred_at
    timeline_reports = [e for e in events if e.event_type == "ProgressReportDue"]
    # None lost, none twice: every interval since the opening has exactly one report.
    assert [e.data["report_number"] for e in timeline_reports] == list(
        range(1, len(timeline_reports) + 1)
    )
    for number, report in enumerate(timeline_reports, start=1):
        assert report.occurred_at == opened_at + REPORT_INTERVAL * number
    (missed,) = [payload_of(e) for e in events if e.event_type == "IntakeWindowMissed"]
    assert isinstance(missed, IntakeWindowMissed)
    assert missed.window_ended_at == opened_at + INTAKE_WINDOW
    assert (
        await db.fetchval("SELECT count(*) FROM inbox WHERE consumer = $1", ADMITTED_CONSUMER) == 1
    )
    runs = [w async for w in temporal.list_workflows(f"WorkflowId = '{workflow_id_for(case_id)}'")]
    assert len(runs) == 1

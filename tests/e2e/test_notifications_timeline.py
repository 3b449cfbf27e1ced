"""The timeline's events reach the right people's inboxes, in coarse words: progress reports and
missed intake windows for the referring officer; missed windows and new arrests for the
prosecutors' office; inactivity and new arrests for the case manager; a missed window (overdue
intake) for the supervisors of the case-management agency."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from nats.aio.client import Client as NATS

from offramp_contracts.events.base import StaffRef
from offramp_contracts.events.casework import (
    CaseManagerAssigned,
    CaseOpened,
    ClientBecameInactive,
    IntakeWindowMissed,
    NewArrestReported,
    ProgressReportDue,
)
from tests.bus import publish_event
from tests.conftest import System, wait_for
from tests.notifications import CASE_MANAGER, CASEWORK, OFFICER, PROSECUTOR_AGENCY, new_case


async def inbox(system: System, token: str) -> list[dict[str, Any]]:
    async with system.client("notify", token) as notify:
        response = await notify.get("/inbox")
    assert response.status_code == 200, response.text
    messages: list[dict[str, Any]] = response.json()
    return messages


async def triggers_in(system: System, token: str, count: int, who: str) -> list[str]:
    async def filled() -> list[str] | None:
        found = sorted(m["trigger"] for m in await inbox(system, token))
        return found if len(found) >= count else None

    found: list[str] = await wait_for(filled, timeout=30, what=f"{count} message(s) for {who}")
    return found


@pytest.mark.services("notify")
async def test_the_timelines_events_reach_each_audience(
    system: System, nats_client: NATS, isolation: Any
) -> None:
    now = datetime.now(UTC)
    referral_id, case_id, stream = new_case()
    prosecutor_officer = StaffRef(subject="ada-5", agency=PROSECUTOR_AGENCY)
    events = [
        CaseOpened(
            case_id=case_id,
            referral_id=referral_id,
            door="arrest_diversion",
            referring_officer=OFFICER,
            policy_version="2026.1",
        ),
        CaseManagerAssigned(case_id=case_id, case_manager=CASE_MANAGER),
        IntakeWindowMissed(
            case_id=case_id,
            referral_id=referral_id,
            referring_officer=OFFICER,
            window_ended_at=now,
        ),
        ProgressReportDue(
            case_id=case_id,
            referral_id=referral_id,
            referring_officer=OFFICER,
            report_number=1,
            coarse_status="not_engaged",
        ),
        ClientBecameInactive(
            case_id=case_id, last_contact_at=None, inactive_since=now - timedelta(days=1)
        ),
        NewArrestReported(
            case_id=case_id,
            referral_id=referral_id,
            reported_by=prosecutor_officer,
            reporter_role="prosecutor",
            arrested_on=date.today(),
        ),
    ]
    for version, payload in enumerate(events, start=1):
        await publish_event(
            nats_client, isolation, payload, stream_id=stream, stream_version=version,
            actor=CASEWORK,
        )  # fmt: skip

    officer = system.token(sub=OFFICER.subject, role="officer", agency=OFFICER.agency)
    prosecutor = system.token(sub="ada-1", role="prosecutor", agency=PROSECUTOR_AGENCY)
    case_manager = system.token(
        sub=CASE_MANAGER.subject, role="case_manager", agency=CASE_MANAGER.agency
    )
    supervisor = system.token(sub="sup-1", role="supervisor", agency=CASE_MANAGER.agency)

    assert await triggers_in(system, officer, 3, "the officer") == [
        "CaseOpened",
        "IntakeWindowMissed",
        "ProgressReportDue",
    ]
    assert await triggers_in(system, prosecutor, 2, "the prosecutors' office") == [
        "IntakeWindowMissed",
        "NewArrestReported",
    ]
    assert await triggers_in(system, case_manager, 3, "the case manager") == [
        "CaseManagerAssigned",
        "ClientBecameInactive",
        "NewArrestReported",
    ]
    assert await triggers_in(system, supervisor, 1, "the supervisors") == ["IntakeWindowMissed"]

    report = next(m for m in await inbox(system, officer) if m["trigger"] == "ProgressReportDue")
    assert report["coarse_status"] == "not_engaged"
    assert "Status: not engaged." in report["body"]


@pytest.mark.services("notify")
async def test_a_new_arrest_before_anyone_is_assigned_reaches_the_prosecutor_and_supervisors(
    system: System, nats_client: NATS, isolation: Any
) -> None:
    """Nobody waits for an assignment that may never come: the supervisors who assign the case
    are told in the case manager's place, and the prosecutors' office is told at once."""
    referral_id, case_id, stream = new_case()
    events = [
        CaseOpened(
            case_id=case_id,
            referral_id=referral_id,
            door="arrest_diversion",
            referring_officer=OFFICER,
            policy_version="2026.1",
        ),
        NewArrestReported(
            case_id=case_id,
            referral_id=referral_id,
            reported_by=OFFICER,
            reporter_role="officer",
            arrested_on=date.today(),
        ),
    ]
    for version, payload in enumerate(events, start=1):
        await publish_event(
            nats_client, isolation, payload, stream_id=stream, stream_version=version,
            actor=CASEWORK,
        )  # fmt: skip

    prosecutor = system.token(sub="ada-1", role="prosecutor", agency=PROSECUTOR_AGENCY)
    supervisor = system.token(sub="sup-1", role="supervisor", agency=CASE_MANAGER.agency)
    assert await triggers_in(system, prosecutor, 1, "the prosecutors' office") == [
        "NewArrestReported"
    ]
    assert await triggers_in(system, supervisor, 1, "the supervisors") == ["NewArrestReported"]

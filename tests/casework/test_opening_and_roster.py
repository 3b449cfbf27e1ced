"""Opening a case under the profile version its referral was decided under, exactly once; and
assignment from the rosters supervisors keep, balanced, reassignable, agency by agency."""

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from casework.container import CaseworkContainer
from tests.casework.harness import Casework, admit
from tests.conftest import wait_for
from tests.profiles import SHIPPED_PROFILES, customised_profiles


@pytest.fixture
def profiles_dir(tmp_path: Path) -> Path:
    """The shipped profiles plus a later Pontiac version with a 7-day intake window."""
    directory = customised_profiles(tmp_path / "profiles", {})
    later = (SHIPPED_PROFILES / "pontiac.toml").read_text()
    for old, new in {
        'version = "2026.1"': 'version = "2026.2"',
        "effective_from = 2026-01-01": "effective_from = 2026-06-01",
        'intake_window = "P14D"': 'intake_window = "P7D"',
    }.items():
        assert old in later
        later = later.replace(old, new)
    (directory / "pontiac-2026.2.toml").write_text(later)
    return directory


async def view(casework: Casework, case_id: UUID, sub: str = "sup-1") -> dict[str, Any]:
    async with casework.staff(sub, "supervisor") as http:
        response = await http.get(f"/cases/{case_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def window_of(case: dict[str, Any]) -> timedelta:
    return datetime.fromisoformat(case["intake_deadline"]) - datetime.fromisoformat(
        case["opened_at"]
    )


async def test_a_case_keeps_the_profile_version_its_referral_was_decided_under(
    casework: Casework,
) -> None:
    await casework.register("cm-1")
    old = await casework.admit(policy_version="2026.1")
    new = await casework.admit(policy_version="2026.2")
    social = await casework.admit("social_contact", policy_version="2026.1")
    for case_id in (old, new, social):
        await casework.opened(case_id)
    old_case, new_case = await view(casework, old), await view(casework, new)
    assert (old_case["policy_version"], window_of(old_case)) == ("2026.1", timedelta(days=14))
    assert (new_case["policy_version"], window_of(new_case)) == ("2026.2", timedelta(days=7))
    assert (await view(casework, social))["intake_deadline"] is None
    (opened,) = await casework.payloads(old, "CaseOpened")
    assert opened.policy_version == "2026.1"


async def test_a_version_casework_does_not_hold_is_parked_never_swapped_for_another(
    casework: Casework,
) -> None:
    await casework.register("cm-1")
    case_id = await casework.admit(policy_version="2019.1")
    pool = casework.service.runtime.pool

    async def parked() -> Any:
        return await pool.fetchrow("SELECT consumer, error FROM dead_letters")

    letter = await wait_for(parked, timeout=30, what="the admission to be parked")
    assert "no site profile 'pontiac' version '2019.1'" in letter["error"]
    assert "restore that profile file and replay this dead letter" in letter["error"]
    assert await casework.events(case_id) == []


async def test_a_referral_admitted_twice_opens_one_case(casework: Casework) -> None:
    """Two different admission events for one referral (say, a republished one with a new id):
    the inbox cannot tell them apart, the case id and its workflow id can."""
    await casework.register("cm-1")
    case_id = await casework.admit()
    await casework.opened(case_id)
    (opened,) = await casework.payloads(case_id, "CaseOpened")
    consumer = casework.service.runtime.container_as(CaseworkContainer).consumer
    handled = consumer.handled
    again = await admit(casework.nats, casework.isolation, referral_id=opened.referral_id)
    assert again == case_id

    async def taken() -> bool:
        return bool(consumer.handled > handled)

    await wait_for(taken, timeout=30, what="the second admission to be handled")
    types = [e.event_type for e in await casework.events(case_id)]
    assert types == ["CaseOpened", "CaseManagerAssigned"]


async def test_new_cases_go_to_the_least_loaded_active_case_manager(casework: Casework) -> None:
    await casework.register("cm-a", "cm-b")
    cases: list[UUID] = []
    for _ in range(3):
        case_id = await casework.admit()
        await casework.opened(case_id)
        cases.append(case_id)
    managers = [(await view(casework, c))["case_manager"] for c in cases]
    assert managers == ["cm-a", "cm-b", "cm-a"]

    async with casework.staff("sup-1", "supervisor") as http:
        assert (await http.delete("/case-managers/cm-b")).status_code == 204
        roster = (await http.get("/case-managers")).json()
    assert roster == [
        {"subject": "cm-a", "active": True, "open_cases": 2},
        {"subject": "cm-b", "active": False, "open_cases": 1},
    ]
    # cm-b has fewer cases but takes no new ones; their open case stays theirs.
    fourth = await casework.admit()
    await casework.opened(fourth)
    assert (await view(casework, fourth))["case_manager"] == "cm-a"
    assert (await view(casework, cases[1]))["case_manager"] == "cm-b"


async def test_with_nobody_on_the_roster_a_case_waits_for_a_supervisor_to_assign_it(
    casework: Casework,
) -> None:
    case_id = await casework.admit()
    await casework.opened(case_id, assigned=False)

    async def listed() -> list[dict[str, Any]]:
        async with casework.staff("sup-1", "supervisor") as http:
            rows: list[dict[str, Any]] = (await http.get("/cases")).json()
        return rows

    (row,) = await wait_for(listed, timeout=30, what="the unassigned case in the agency's list")
    assert row["case_id"] == str(case_id) and row["case_manager"] is None

    async with casework.staff("sup-1", "supervisor") as http:
        refused = await http.put(f"/cases/{case_id}/case-manager", json={"case_manager": "cm-x"})
        assert refused.status_code == 422, refused.text
        await casework.register("cm-x", "cm-y")
        assigned = await http.put(f"/cases/{case_id}/case-manager", json={"case_manager": "cm-x"})
        assert assigned.status_code == 200, assigned.text
        moved = await http.put(f"/cases/{case_id}/case-manager", json={"case_manager": "cm-y"})
        assert moved.status_code == 200, moved.text
        same = await http.put(f"/cases/{case_id}/case-manager", json={"case_manager": "cm-y"})
        assert same.status_code == 409, same.text
    assignments = await casework.payloads(case_id, "CaseManagerAssigned")
    assert [(a.case_manager.subject, a.previous_case_manager) for a in assignments] == [
        ("cm-x", None),
        ("cm-y", assignments[0].case_manager),
    ]


async def test_rosters_and_caseloads_are_kept_agency_by_agency(casework: Casework) -> None:
    await casework.register("cm-1")
    case_id = await casework.admit()
    await casework.opened(case_id)
    other = casework.client(casework.token("sup-9", "supervisor", "another-agency"))
    case_manager = casework.staff("cm-1", "case_manager")
    async with other, case_manager:
        assert (await other.get("/case-managers")).status_code == 403
        assert (await other.put("/case-managers/spy")).status_code == 403
        assert (await other.get("/cases")).status_code == 403
        assert (await other.get(f"/cases/{case_id}")).status_code == 403
        assert (
            await other.put(f"/cases/{case_id}/case-manager", json={"case_manager": "cm-1"})
        ).status_code == 403
        assert (await case_manager.put("/case-managers/cm-2")).status_code == 403
        mine = (await case_manager.get("/cases")).json()
    assert [row["case_id"] for row in mine] == [str(case_id)]
    assert mine[0]["status"] == "working_with_case_manager"

"""What case staff read of a case on the real servers: each goal in its wording, each service
referral with its service, provider and latest outcome, and the case's own history in words.
Officers, prosecutors and everyone else outside the case's agency read none of it."""

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import httpx

from tests.casework.harness import OFFICER, Casework

WORDING = "a lease of her own within three months"


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def planned_case(casework: Casework) -> tuple[UUID, str, str, str]:
    """A case with two goals (one reworded and achieved) and a service referral with two
    outcomes; the ids of the case, the goals and the referral."""
    await casework.register("cm-1")
    case_id = await casework.admit("arrest_diversion")
    await casework.opened(case_id)
    base = f"/cases/{case_id}"
    async with casework.staff("cm-1") as http:
        ok(
            await http.post(
                f"{base}/intake-assessment",
                json={"needs": ["housing"], "release_signed_on": date.today().isoformat()},
            )
        )
        ok(
            await http.post(
                f"{base}/contacts",
                json={"contacted_at": datetime.now(UTC).isoformat(), "method": "phone"},
            ),
            201,
        )
        housing = ok(await http.post(f"{base}/goals", json={"description": "housing"}), 201)["id"]
        ok(await http.patch(f"{base}/goals/{housing}", json={"description": WORDING}))
        ok(await http.post(f"{base}/goals/{housing}/achieved", json={"description": "signed!"}))
        job = ok(await http.post(f"{base}/goals", json={"description": "a job"}), 201)["id"]
        made = ok(
            await http.post(
                f"{base}/service-referrals",
                json={"service": "detox", "provider": "Oakland Detox", "notes": "Tuesdays"},
            ),
            201,
        )["id"]
        outcome = f"{base}/service-referrals/{made}/outcome"
        ok(await http.post(outcome, json={"outcome": "waitlisted"}))
        ok(await http.post(outcome, json={"outcome": "connected", "notes": "first visit"}))
    return case_id, housing, job, made


async def test_case_staff_read_each_goals_wording_and_each_referrals_provider_and_outcome(
    casework: Casework,
) -> None:
    case_id, housing, job, made = await planned_case(casework)
    async with casework.staff("cm-1") as http:
        case = ok(await http.get(f"/cases/{case_id}"))
    goals = {g["goal_id"]: g for g in case["goals"]}
    assert [g["goal_id"] for g in case["goals"]] == [housing, job]  # in the order added
    assert (goals[housing]["status"], goals[housing]["description"]) == ("achieved", WORDING)
    assert goals[housing]["note"] == "signed!"
    assert (goals[job]["status"], goals[job]["description"], goals[job]["note"]) == (
        "open",
        "a job",
        "",
    )
    (referral,) = case["service_referrals"]
    assert referral["service_referral_id"] == made
    assert (referral["service"], referral["provider"], referral["notes"]) == (
        "detox",
        "Oakland Detox",
        "Tuesdays",
    )
    assert (referral["outcome"], referral["outcome_notes"]) == ("connected", "first visit")
    assert referral["outcome_at"] >= referral["referred_at"]


async def test_the_history_is_every_event_of_the_case_with_who_when_and_a_line(
    casework: Casework,
) -> None:
    case_id, *_ = await planned_case(casework)
    async with casework.staff("sup-1", "supervisor") as http:
        history = ok(await http.get(f"/cases/{case_id}/history"))
    stored = await casework.events(case_id)
    assert [h["event_id"] for h in history] == [str(e.event_id) for e in stored]
    assert [h["event_type"] for h in history] == [e.event_type for e in stored]
    lines = {h["event_type"]: h for h in history}
    opened = lines["CaseOpened"]
    assert opened["summary"].startswith("Case opened: arrest diversion by officer-7")
    assert lines["CaseManagerAssigned"]["summary"] == "Case manager cm-1 assigned"
    assert lines["CaseManagerAssigned"]["actor"]["role"] == "system"
    summaries = [h["summary"] for h in history]
    assert f"Goal updated: “{WORDING}”" in summaries
    assert "Referred to detox at Oakland Detox" in summaries
    assert "Outcome of detox at Oakland Detox: waitlisted" in summaries
    assert "Outcome of detox at Oakland Detox: connected" in summaries
    assert f"Goal achieved: “{WORDING}” (note: signed!)" in summaries
    contact = lines["ContactLogged"]
    assert contact["actor"] == {
        "subject": "cm-1",
        "agency": "pontiac-case-management",
        "role": "case_manager",
    }
    assert contact["summary"].startswith("Contact (phone) on ")
    assert all(h["occurred_at"] and h["recorded_at"] for h in history)


async def test_nobody_outside_the_cases_agency_reads_its_history_or_its_plan(
    casework: Casework,
) -> None:
    case_id, *_ = await planned_case(casework)
    outsiders = {
        "the referring officer": casework.token(OFFICER.subject, "officer", OFFICER.agency),
        "the liaison prosecutor": casework.token("ada-1", "prosecutor", "oakland-prosecutor"),
        "a public defender": casework.token("pd-1", "public_defender", "oakland-public-defender"),
        "an auditor": casework.token("auditor-1", "auditor", "county-audit"),
    }
    for who, token in outsiders.items():
        async with casework.client(token) as http:
            for path in (f"/cases/{case_id}/history", f"/cases/{case_id}"):
                answer = await http.get(path)
                assert answer.status_code == 403, (who, path, answer.text)
                assert "Oakland Detox" not in answer.text and WORDING not in answer.text
    another_agency = casework.token("cm-9", "case_manager", "another-care-agency")
    async with casework.client(another_agency) as http:
        assert (await http.get(f"/cases/{case_id}/history")).status_code == 403
    in_another_place = casework.token("cm-1", "case_manager", "pontiac-case-management", "oakland")
    async with casework.client(in_another_place) as http:
        answer = await http.get(f"/cases/{case_id}/history")
        assert answer.status_code in (403, 404) and WORDING not in answer.text
    # What the referring officer may read has none of it.
    async with casework.client(outsiders["the referring officer"]) as http:
        status = ok(await http.get(f"/cases/{case_id}/status"))
    assert set(status) == {"case_id", "referral_id", "status"}

"""The case manager's work over HTTP on the real servers, with every refusal: problem+json, the
right status, and nothing stored."""

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx

from offramp_contracts.events.base import Door
from tests.casework.harness import Casework

NOW = datetime.now(UTC)
ASSESSMENT = {
    "needs": ["housing", "substance_use_treatment", "id_documents"],
    "notes": "sleeping in car; wants detox referral",
    "release_signed_on": NOW.date().isoformat(),
}


def contact(hours_ago: float = 1) -> dict[str, Any]:
    return {
        "contacted_at": (datetime.now(UTC) - timedelta(hours=hours_ago)).isoformat(),
        "method": "in_person",
        "notes": "met at the drop-in centre",
    }


def problem(response: httpx.Response, status: int, kind: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    if kind:
        assert body["type"].endswith("/" + kind), body
    return body


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def ok_list(response: httpx.Response, status: int = 200) -> list[dict[str, Any]]:
    """The answer of a route that lists things (`ok` is for one)."""
    assert response.status_code == status, response.text
    listed: list[dict[str, Any]] = response.json()
    return listed


async def new_case(casework: Casework, door: Door = "arrest_diversion", **kw: Any) -> UUID:
    case_id = await casework.admit(door, **kw)
    await casework.opened(case_id)
    return case_id


async def test_a_case_managers_whole_case_from_assessment_to_graduation(casework: Casework) -> None:
    await casework.register("cm-1")
    case_id = await new_case(casework)
    base = f"/cases/{case_id}"
    async with casework.staff("cm-1") as http:
        assessed = ok(await http.post(f"{base}/intake-assessment", json=ASSESSMENT))
        assert assessed["stored"] == ["IntakeAssessmentCompleted"]
        assert assessed["case"]["phase"] == "enrolled"

        first = ok(await http.post(f"{base}/contacts", json=contact(2)), 201)
        assert first["stored"] == ["ContactLogged", "ClientEngaged"]
        second = ok(await http.post(f"{base}/contacts", json=contact(1)), 201)
        assert second["stored"] == ["ContactLogged"]
        assert second["case"]["contacts"] == 2 and second["case"]["coarse_status"] == "engaged"

        housing = ok(await http.post(f"{base}/goals", json={"description": "stable housing"}), 201)
        goal = housing["id"]
        ok(await http.patch(f"{base}/goals/{goal}", json={"description": "a lease in 3 months"}))
        achieved = ok(await http.post(f"{base}/goals/{goal}/achieved", json={}))
        other = ok(await http.post(f"{base}/goals", json={"description": "a job"}), 201)
        dropped = ok(await http.post(f"{base}/goals/{other['id']}/dropped", json={}))
        assert {g["goal_id"]: g["status"] for g in dropped["case"]["goals"]} == {
            goal: "achieved",
            other["id"]: "dropped",
        }
        assert achieved["stored"] == ["InterventionPlanUpdated"]

        made = ok(
            await http.post(
                f"{base}/service-referrals", json={"service": "detox", "provider": "Oakland Detox"}
            ),
            201,
        )
        outcome_url = f"{base}/service-referrals/{made['id']}/outcome"
        ok(await http.post(outcome_url, json={"outcome": "waitlisted"}))
        done = ok(await http.post(outcome_url, json={"outcome": "completed"}))
        (referral,) = done["case"]["service_referrals"]
        assert (referral["service_referral_id"], referral["outcome"]) == (made["id"], "completed")

        closed = ok(await http.post(f"{base}/closure", json={"reason": "graduated"}))
        assert closed["stored"] == ["CaseClosed"]
        assert closed["case"]["coarse_status"] == "closed"

    stored = [e.event_type for e in await casework.events(case_id)]
    assert stored == [
        "CaseOpened",
        "CaseManagerAssigned",
        "IntakeAssessmentCompleted",
        "ContactLogged",
        "ClientEngaged",
        "ContactLogged",
        *["InterventionPlanUpdated"] * 5,
        "ServiceReferralMade",
        *["ServiceReferralOutcomeRecorded"] * 2,
        "CaseClosed",
    ]
    (completed,) = await casework.payloads(case_id, "IntakeAssessmentCompleted")
    assert completed.within_intake_window is True
    assert completed.release_signed_on == NOW.date()
    assert completed.assessment.needs == {"housing", "substance_use_treatment", "id_documents"}


async def test_a_closed_case_refuses_every_change_with_409_and_stores_nothing(
    casework: Casework,
) -> None:
    await casework.register("cm-1")
    case_id = await new_case(casework)
    base = f"/cases/{case_id}"
    async with casework.staff("cm-1") as http:
        goal = ok(await http.post(f"{base}/goals", json={"description": "ID card"}), 201)["id"]
        ok(await http.post(f"{base}/closure", json={"reason": "moved"}))
        before = len(await casework.events(case_id))
        attempts = [
            http.post(f"{base}/intake-assessment", json=ASSESSMENT),
            http.post(f"{base}/contacts", json=contact()),
            http.post(f"{base}/goals", json={"description": "x"}),
            http.patch(f"{base}/goals/{goal}", json={"description": "y"}),
            http.post(f"{base}/goals/{goal}/achieved", json={}),
            http.post(f"{base}/service-referrals", json={"service": "housing", "provider": "H"}),
            http.post(
                f"{base}/non-compliance",
                json={"condition": "keep in contact with the case manager"},
            ),
            http.post(f"{base}/closure", json={"reason": "graduated"}),
        ]
        for attempt in attempts:
            body = problem(await attempt, 409, "case-closed")
            assert "closed (moved)" in body["detail"]
    async with casework.client(casework.token("p-1", "prosecutor", "oakland-prosecutor")) as pros:
        problem(await pros.post(f"{base}/prosecutor-decision", json={"decision": "continue"}), 409)
        problem(await pros.post(f"{base}/arrests", json={"arrested_on": "2026-01-05"}), 409)
    async with casework.staff("supervisor-1", "supervisor") as sup:
        await casework.register("cm-2")
        problem(await sup.put(f"{base}/case-manager", json={"case_manager": "cm-2"}), 409)
    assert len(await casework.events(case_id)) == before


async def test_non_compliance_goes_to_the_prosecutor_who_continues_or_files(
    casework: Casework,
) -> None:
    await casework.register("cm-1")
    continued, filed = await new_case(casework), await new_case(casework)
    prosecutor = casework.client(casework.token("p-1", "prosecutor", "oakland-prosecutor"))
    condition = {"condition": "keep in contact with the case manager", "details": "relapsed"}
    async with casework.staff("cm-1") as http, prosecutor:
        for case_id in (continued, filed):
            reported = ok(await http.post(f"/cases/{case_id}/non-compliance", json=condition))
            assert reported["case"]["coarse_status"] == "non_compliant"
            # One report at a time: the prosecutor answers it first.
            problem(await http.post(f"/cases/{case_id}/non-compliance", json=condition), 409)
        decided = ok(
            await prosecutor.post(
                f"/cases/{continued}/prosecutor-decision", json={"decision": "continue"}
            )
        )
        assert decided["stored"] == ["ProsecutorDecisionRecorded"]
        # The prosecutor is answered with the coarse status, never the case view.
        assert decided == {
            "case_id": str(continued),
            "referral_id": decided["referral_id"],
            "status": "working_with_case_manager",
            "stored": ["ProsecutorDecisionRecorded"],
        }
        again = await prosecutor.post(
            f"/cases/{continued}/prosecutor-decision", json={"decision": "continue"}
        )
        problem(again, 409, "not-allowed-now")
        filing = ok(
            await prosecutor.post(
                f"/cases/{filed}/prosecutor-decision",
                json={"decision": "file_charge", "reason": "declined to continue"},
            )
        )
        assert filing["stored"] == ["ProsecutorDecisionRecorded", "CaseClosed"]
        problem(await http.post(f"/cases/{filed}/contacts", json=contact()), 409, "case-closed")
    (closure,) = await casework.payloads(filed, "CaseClosed")
    assert closure.reason == "charges_filed"


async def test_non_compliance_is_refused_where_no_condition_can_be_breached(
    casework: Casework,
) -> None:
    await casework.register("cm-1")
    await casework.register(
        "oc-1", agency="oakland-community-health", jurisdiction="oakland-county"
    )
    social = await new_case(casework, "social_contact")
    oakland = await new_case(casework, jurisdiction="oakland-county")
    arrest = await new_case(casework)
    condition = {"condition": "keep in contact with the case manager"}
    oakland_staff = casework.client(
        casework.token("oc-1", "case_manager", "oakland-community-health", "oakland-county")
    )
    async with casework.staff("cm-1") as http, oakland_staff:
        problem(await http.post(f"/cases/{social}/non-compliance", json=condition), 409)
        body = problem(
            await oakland_staff.post(f"/cases/{oakland}/non-compliance", json=condition), 422
        )
        assert "no conditions" in body["detail"]
        unknown = await http.post(f"/cases/{arrest}/non-compliance", json={"condition": "abstain"})
        assert "not one of the site's conditions" in problem(unknown, 422)["detail"]
    for case_id in (social, oakland, arrest):
        assert await casework.payloads(case_id, "NonComplianceReported") == []


async def test_refusals_for_the_wrong_caller_or_input_store_nothing(casework: Casework) -> None:
    await casework.register("cm-1")
    case_id = await new_case(casework)
    base = f"/cases/{case_id}"
    other_agency = casework.client(casework.token("cm-9", "case_manager", "another-agency"))
    officer = casework.client(casework.token("officer-7", "officer", "pontiac-pd"))
    other_prosecutor = casework.client(casework.token("p-9", "prosecutor", "elsewhere-prosecutor"))
    # That county's case-management agency: past the gate, but the case is not in its place.
    other_place = casework.client(
        casework.token("cm-1", "case_manager", "oakland-community-health", "oakland-county")
    )
    async with casework.staff("cm-1") as http, other_agency, officer, other_prosecutor, other_place:
        # Staff of an agency the site's profile does not name as its case-management agency
        # are refused at the gate, the same for this case as for any id: nothing confirms it.
        theirs = problem(await other_agency.get(base), 403, "forbidden")
        unknown = problem(await other_agency.get(f"/cases/{uuid4()}"), 403, "forbidden")
        assert theirs["detail"] == unknown["detail"]
        assert str(case_id) not in theirs["detail"] and "pontiac-case" not in theirs["detail"]
        problem(await other_agency.post(f"{base}/contacts", json=contact()), 403)
        problem(await other_agency.get("/cases"), 403, "forbidden")
        problem(await officer.post(f"{base}/contacts", json=contact()), 403)
        problem(await officer.get(base), 403)
        problem(await other_place.get(base), 404, "case-not-found")
        problem(await http.get(f"/cases/{uuid4()}"), 404, "case-not-found")
        problem(
            await other_prosecutor.post(
                f"{base}/prosecutor-decision", json={"decision": "continue"}
            ),
            404,
        )
        problem(
            await http.post(f"{base}/intake-assessment", json={**ASSESSMENT, "needs": ["yoga"]}),
            422,
        )
        future = (date.today() + timedelta(days=2)).isoformat()
        problem(
            await http.post(
                f"{base}/intake-assessment", json={**ASSESSMENT, "release_signed_on": future}
            ),
            422,
        )
        ahead = {**contact(), "contacted_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}
        problem(await http.post(f"{base}/contacts", json=ahead), 422)
        problem(await http.post(f"{base}/contacts", json={**contact(), "mood": "low"}), 422)
        problem(await http.post(f"{base}/goals/{uuid4()}/achieved", json={}), 409)
        problem(
            await http.post(
                f"{base}/service-referrals/{uuid4()}/outcome", json={"outcome": "connected"}
            ),
            409,
        )
        problem(
            await http.post(f"{base}/closure", json={"reason": "charges_filed"}),
            422,
            "invalid-command",
        )
        problem(await http.post(f"{base}/closure", json={"reason": "relapse"}), 422)
        problem(await http.post(f"{base}/prosecutor-decision", json={"decision": "continue"}), 403)
        problem(await http.put(f"{base}/case-manager", json={"case_manager": "cm-1"}), 403)
        # Done once, the assessment cannot be done again.
        ok(await http.post(f"{base}/intake-assessment", json=ASSESSMENT))
        problem(
            await http.post(f"{base}/intake-assessment", json=ASSESSMENT), 409, "not-allowed-now"
        )
    stored = [e.event_type for e in await casework.events(case_id)]
    assert stored == ["CaseOpened", "CaseManagerAssigned", "IntakeAssessmentCompleted"]


async def test_officers_and_the_prosecutor_report_new_arrests_and_learn_only_the_coarse_status(
    casework: Casework,
) -> None:
    await casework.register("cm-1")
    case_id = await new_case(casework)
    referring = casework.client(casework.token("officer-7", "officer", "pontiac-pd"))
    another = casework.client(casework.token("officer-8", "officer", "pontiac-pd"))
    sheriff = casework.client(casework.token("deputy-1", "officer", "oakland-sheriff"))
    prosecutor = casework.client(casework.token("p-1", "prosecutor", "oakland-prosecutor"))
    async with referring, another, sheriff, prosecutor, casework.staff("cm-1") as http:
        ok(await http.post(f"/cases/{case_id}/contacts", json=contact()), 201)
        # Only the referring agency's officers (and the prosecutor) touch the case.
        problem(
            await sheriff.post(f"/cases/{case_id}/arrests", json={"arrested_on": "2026-02-01"}),
            404,
        )
        by_officer = ok(
            await another.post(f"/cases/{case_id}/arrests", json={"arrested_on": "2026-02-01"}), 201
        )
        assert by_officer == {"case_id": str(case_id), "stored": ["NewArrestReported"]}
        ok(
            await prosecutor.post(f"/cases/{case_id}/arrests", json={"arrested_on": "2026-02-02"}),
            201,
        )
        tomorrow = (date.today() + timedelta(days=1)).isoformat()
        problem(
            await another.post(f"/cases/{case_id}/arrests", json={"arrested_on": tomorrow}), 422
        )

        status = ok(await referring.get(f"/cases/{case_id}/status"))
        assert status == {
            "case_id": str(case_id),
            "referral_id": status["referral_id"],
            "status": "engaged",
        }
        assert ok(await prosecutor.get(f"/cases/{case_id}/status"))["status"] == "engaged"
        problem(await another.get(f"/cases/{case_id}/status"), 403)
        full = ok(await http.get(f"/cases/{case_id}"))
    assert full["new_arrests"] == 2 and full["phase"] == "intake"  # an arrest closes nothing
    arrests = await casework.payloads(case_id, "NewArrestReported")
    assert [(a.reporter_role, a.reported_by.subject) for a in arrests] == [
        ("officer", "officer-8"),
        ("prosecutor", "p-1"),
    ]

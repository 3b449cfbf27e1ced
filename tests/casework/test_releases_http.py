"""Recording releases of information over HTTP on the real servers: a complete release is stored
on the case's stream and in the read model; one that lacks an element, cannot be right or would
reach law enforcement is refused with problem+json, and nothing is stored."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from tests.casework.consent import PD_AGENCY, officer, prosecutor, public_defender, release_form
from tests.casework.harness import Casework
from tests.casework.test_case_commands_http import new_case, ok, ok_list, problem

# Each element of DESIGN.md rule 10, and a form that lacks it.
LACKING: dict[str, dict[str, Any]] = {
    "participant": {"participant": None},
    "discloser": {"discloser": " "},
    "information": {"information": []},
    "recipient.agency": {"recipient": {"role": "public_defender"}},
    "recipient.role": {"recipient": {"agency": PD_AGENCY}},
    "purpose": {"purpose": ""},
    "right_to_revoke.statement": {"right_to_revoke": {"how": "tell my case manager"}},
    "right_to_revoke.how": {"right_to_revoke": {"statement": "I may revoke this."}},
    "expiry": {"expires_at": None, "expires_on": None},
    "signature.signed_by": {"signature": {"signed_on": "2026-01-05"}},
    "signature.representative": {
        "signature": {"signed_by": "legal_representative", "signed_on": "2026-01-05"}
    },
    "signature.signed_on": {"signature": {"signed_by": "participant"}},
}


async def stored_types(casework: Casework, case_id: UUID) -> list[str]:
    return [e.event_type for e in await casework.events(case_id)]


async def test_each_missing_element_is_refused_naming_it_and_how_to_supply_it(
    casework: Casework,
) -> None:
    await casework.register("cm-1")
    case_id = await new_case(casework)
    before = await stored_types(casework, case_id)
    async with casework.staff("cm-1") as http:
        for element, lack in LACKING.items():
            response = await http.post(
                f"/cases/{case_id}/releases", json=release_form(case_id, **lack)
            )
            body = problem(response, 422, "release-incomplete")
            assert [m["element"] for m in body["missing"]] == [element], element
            assert body["missing"][0]["how"].startswith("Give `"), element
            assert element in body["detail"], element

        everything = problem(await http.post(f"/cases/{case_id}/releases", json={}), 422)
        assert len(everything["missing"]) == len(LACKING) - 1  # no representative to name
    assert await stored_types(casework, case_id) == before
    rows = await casework.service.runtime.pool.fetchval("SELECT count(*) FROM releases")
    assert rows == 0


async def test_a_release_that_cannot_be_right_is_refused_saying_why(casework: Casework) -> None:
    await casework.register("cm-1")
    case_id = await new_case(casework)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    wrong: dict[str, dict[str, Any]] = {
        "the signature date": {"signature": {"signed_by": "participant", "signed_on": tomorrow}},
        "expires": {"expires_at": "2020-01-01T00:00:00Z"},
        "record it on that case": {"participant": "0190a3b4-0000-7000-8000-000000000000"},
        "must name it as `discloser`": {"discloser": "some-other-agency"},
    }
    async with casework.staff("cm-1") as http:
        for says, change in wrong.items():
            response = await http.post(
                f"/cases/{case_id}/releases", json=release_form(case_id, **change)
            )
            assert says in problem(response, 422, "release-invalid")["detail"], says
        unknown = await http.post(
            f"/cases/{case_id}/releases", json=release_form(case_id, information=["diagnoses"])
        )
        problem(unknown, 422, "invalid-request")
    assert "ConsentGranted" not in await stored_types(casework, case_id)


async def test_a_release_is_recorded_on_the_stream_and_listed_in_force(casework: Casework) -> None:
    await casework.register("cm-1")
    case_id = await new_case(casework)
    form = release_form(
        case_id,
        information=["program_status", "substance_use_treatment"],
        recipient={"agency": PD_AGENCY, "role": "public_defender", "subject": "pd-1"},
        signature={
            "signed_by": "legal_representative",
            "representative": "Dana Rivera, guardian",
            "signed_on": datetime.now(UTC).date().isoformat(),
        },
    )
    async with casework.staff("cm-1") as http:
        made = ok(await http.post(f"/cases/{case_id}/releases", json=form), 201)
        listed = ok_list(await http.get(f"/cases/{case_id}/releases"))
    assert made["status"] == "in_force"
    assert made["recipient"] == {"agency": PD_AGENCY, "role": "public_defender", "subject": "pd-1"}
    assert made["signature"]["representative"] == "Dana Rivera, guardian"
    assert made["right_to_revoke"] == form["right_to_revoke"]
    assert "until the case closes" in made["standing"]
    assert [r["release_id"] for r in listed] == [made["release_id"]]
    assert listed[0]["information"] == ["program_status", "substance_use_treatment"]

    (granted,) = await casework.payloads(case_id, "ConsentGranted")
    assert str(granted.release_id) == made["release_id"]
    assert granted.purpose == form["purpose"]
    assert granted.recorded_by.subject == "cm-1"
    row = await casework.service.runtime.pool.fetchrow(
        "SELECT case_id, recipient_agency, recipient_subject, expires_on FROM releases"
    )
    assert dict(row) == {
        "case_id": case_id,
        "recipient_agency": PD_AGENCY,
        "recipient_subject": "pd-1",
        "expires_on": "case_closed",
    }


async def test_no_release_may_name_law_enforcement_or_a_prosecutor(casework: Casework) -> None:
    await casework.register("cm-1")
    case_id = await new_case(casework)
    to_them = [
        {"agency": "pontiac-pd", "role": "officer"},
        {"agency": "oakland-sheriff", "role": "officer"},
        {"agency": "oakland-prosecutor", "role": "prosecutor"},
        # The site's prosecutor agency and the referring police are refused whatever the role.
        {"agency": "oakland-prosecutor", "role": "public_defender"},
        {"agency": "pontiac-pd", "role": "case_manager"},
    ]
    async with casework.staff("cm-1") as http:
        for recipient in to_them:
            response = await http.post(
                f"/cases/{case_id}/releases", json=release_form(case_id, recipient=recipient)
            )
            body = problem(response, 422, "release-to-law-enforcement")
            assert "Golden Rule" in body["detail"], recipient
        # Even a bare form naming a prosecutor is refused for what it is, not for its gaps.
        bare = await http.post(
            f"/cases/{case_id}/releases",
            json={"recipient": {"agency": "oakland-prosecutor", "role": "prosecutor"}},
        )
        problem(bare, 422, "release-to-law-enforcement")
    assert "ConsentGranted" not in await stored_types(casework, case_id)


async def test_only_the_case_agencys_staff_record_and_list_releases(casework: Casework) -> None:
    await casework.register("cm-1")
    case_id = await new_case(casework)
    url = f"/cases/{case_id}/releases"
    other_cm = casework.client(
        casework.token("cm-9", "case_manager", "oakland-community-mental-health")
    )
    for outsider, status in (
        (officer(casework), 403),
        (prosecutor(casework), 403),
        (public_defender(casework), 403),
        (other_cm, 403),  # not the site's case-management agency: refused at the gate
    ):
        async with outsider as http:
            problem(await http.post(url, json=release_form(case_id)), status)
            problem(await http.get(url), status)
            problem(await http.get(f"/cases/{case_id}/disclosures"), status)
    async with casework.staff("supervisor-1", "supervisor") as supervisor:
        ok(await supervisor.post(url, json=release_form(case_id)), 201)
        assert len(ok(await supervisor.get(url))) == 1

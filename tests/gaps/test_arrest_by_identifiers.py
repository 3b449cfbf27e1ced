"""An arresting officer who is not the referrer, and the prosecutor at charging, know a name and
a date of birth, not a case id. Reporting a new arrest by them answers only "recorded for a
participant" or "not a participant"; a match reaches the case (the prosecutor and the case
manager are told), and every look-up is in the ledger's access events, matched or not."""

import json
from datetime import date
from typing import Any

import asyncpg

from tests.conftest import System, wait_for
from tests.notifications import PROSECUTOR_AGENCY, inbox
from tests.referrals import fresh_key, referral_body

CASE_MANAGEMENT = "pontiac-case-management"
TODAY = date.today().isoformat()


async def participant(system: System) -> tuple[str, str]:
    """Sam Rivera (born 1990-04-02), referred by officer-7 at a social contact and admitted;
    returns the referral id and the case id, once the case has its case manager."""
    supervisor = system.token(sub="sup-1", role="supervisor", agency=CASE_MANAGEMENT)
    async with system.client("casework", supervisor) as casework:
        assert (await casework.put("/case-managers/cm-1")).status_code == 204
    referrer = system.token(sub="officer-7", role="officer", agency="pontiac-pd")
    async with system.client("intake", referrer) as intake:
        made = await intake.post(
            "/referrals", json=referral_body("social_contact"), headers=fresh_key()
        )
    assert made.status_code == 201 and made.json()["status"] == "admitted", made.text
    referral_id = made.json()["referral_id"]
    manager = system.token(sub="cm-1", role="case_manager", agency=CASE_MANAGEMENT)

    async def assigned() -> str | None:
        async with system.client("casework", manager) as casework:
            cases = (await casework.get("/cases")).json()
        found = [c for c in cases if c["referral_id"] == referral_id and c["case_manager"]]
        return str(found[0]["case_id"]) if found else None

    case_id: str = await wait_for(assigned, timeout=60, what="the case with its case manager")
    return referral_id, case_id


async def report(system: System, token: str, **person: str) -> Any:
    body = {
        "given_name": "Sam",
        "family_name": "Rivera",
        "date_of_birth": "1990-04-02",
        "arrested_on": TODAY,
        **person,
    }
    async with system.client("intake", token) as intake:
        return await intake.post("/arrests", json=body)


async def new_arrests(system: System, case_id: str, count: int) -> dict[str, Any]:
    manager = system.token(sub="cm-1", role="case_manager", agency=CASE_MANAGEMENT)

    async def counted() -> dict[str, Any] | None:
        async with system.client("casework", manager) as casework:
            case: dict[str, Any] = (await casework.get(f"/cases/{case_id}")).json()
        return case if case["new_arrests"] >= count else None

    found: dict[str, Any] = await wait_for(counted, timeout=30, what=f"{count} new arrest(s)")
    return found


async def lookups(isolation: Any) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(isolation.database_url)
    try:
        rows = await conn.fetch(
            """SELECT envelope FROM intake.events WHERE event_type = 'RecordAccessed'
               AND envelope->'data'->>'action' = 'POST /arrests' ORDER BY recorded_at"""
        )
    finally:
        await conn.close()
    return [json.loads(row["envelope"])["data"] for row in rows]


async def test_an_arrest_reported_by_name_and_birth_date_reaches_the_case_without_revealing_it(
    system: System, isolation: Any
) -> None:
    referral_id, case_id = await participant(system)
    arresting = system.token(sub="officer-99", role="officer", agency="pontiac-pd")

    # Another officer, with the name as the booking spells it.
    matched = await report(system, arresting, given_name="  SAM ", family_name="rivera")
    assert matched.status_code == 200, matched.text
    assert matched.json() == {"outcome": "recorded_for_a_participant"}
    for secret in (case_id, referral_id, "cm-1", CASE_MANAGEMENT, "officer-7"):
        assert secret not in matched.text

    case = await new_arrests(system, case_id, 1)
    assert case["coarse_status"] != "closed"
    ada = system.token(sub="ada-1", role="prosecutor", agency=PROSECUTOR_AGENCY)

    async def told() -> list[dict[str, Any]] | None:
        found = [m for m in await inbox(system, ada) if m["trigger"] == "NewArrestReported"]
        return found or None

    await wait_for(told, timeout=30, what="the prosecutors' office told of the arrest")

    # The prosecutor at charging, too; and someone who is no participant.
    assert (await report(system, ada)).json() == {"outcome": "recorded_for_a_participant"}
    await new_arrests(system, case_id, 2)
    unknown = await report(system, arresting, given_name="Alex", date_of_birth="1985-01-01")
    assert unknown.status_code == 200, unknown.text
    assert unknown.json() == {"outcome": "not_a_participant"}
    # A prosecutor's office the site does not name learns nothing from a look-up.
    elsewhere = system.token(sub="ada-9", role="prosecutor", agency="wayne-prosecutor")
    assert (await report(system, elsewhere)).json() == {"outcome": "not_a_participant"}

    # Every look-up is an access event naming what it matched, never the name asked about.
    trail = await lookups(isolation)
    assert [entry["who"]["subject"] for entry in trail] == [
        "officer-99",
        "ada-1",
        "officer-99",
        "ada-9",
    ]
    assert [entry["records"] for entry in trail] == [
        [{"kind": "referral", "id": referral_id}],
        [{"kind": "referral", "id": referral_id}],
        [],
        [],
    ]
    for entry in trail:
        assert "Rivera" not in json.dumps(entry) and "1990" not in json.dumps(entry)


async def test_only_law_enforcement_reports_arrests_by_identifiers(system: System) -> None:
    for role, agency in (("case_manager", CASE_MANAGEMENT), ("public_defender", "oakland-pd")):
        token = system.token(sub="someone", role=role, agency=agency)
        refused = await report(system, token)
        assert refused.status_code == 403, (role, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"

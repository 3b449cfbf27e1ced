"""Agencies and jurisdictions are walled off from each other in every service: a token of another
agency, or of another jurisdiction, never reads or changes a case, a referral or an inbox that is
not theirs, whatever its role (issue 6, item 6).

Outsiders hold every role, each in two forms: the same role at another agency of Pontiac, and
the same role and agency name in Oakland County. They call every operation of every service with
bodies that would be accepted from the right person, so that nothing but the wall refuses them.
"""

from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from tests.access.conftest import CARE_DETAIL, Seeded, token
from tests.access.policy import OPERATIONS, ROLES, home_agency
from tests.casework.consent import release_form
from tests.conftest import System
from tests.stores import domain_events_stored

# What the right person could send: an outsider is refused for who they are, not for the body.
ACCEPTABLE_BODIES: dict[str, dict[str, Any]] = {
    "/referrals/{referral_id}/withdrawal": {"reason": "probe"},
    "/referrals/{referral_id}/review": {"verdict": "declined", "reason": "probe"},
    "/cases/{case_id}/intake-assessment": {
        "needs": ["housing"],
        "release_signed_on": date.today().isoformat(),
    },
    "/cases/{case_id}/circumstances": {"housing": "temporary"},
    "/cases/{case_id}/contacts": {
        "contacted_at": datetime.now(UTC).isoformat(),
        "method": "phone",
    },
    "/cases/{case_id}/goals": {"description": "probe"},
    "/cases/{case_id}/goals/{goal_id}": {"description": "probe"},
    "/cases/{case_id}/goals/{goal_id}/achieved": {},
    "/cases/{case_id}/goals/{goal_id}/dropped": {},
    "/cases/{case_id}/service-referrals": {"service": "counselling", "provider": "probe"},
    "/cases/{case_id}/service-referrals/{service_referral_id}/outcome": {"outcome": "connected"},
    "/cases/{case_id}/non-compliance": {"condition": "keep in contact with the case manager"},
    "/cases/{case_id}/prosecutor-decision": {"decision": "file_charge"},
    "/cases/{case_id}/arrests": {"arrested_on": date.today().isoformat()},
    "/cases/{case_id}/closure": {"reason": "moved"},
    "/cases/{case_id}/case-manager": {"case_manager": "cm-1"},
    "/cases/{case_id}/releases/{release_id}/revocation": {"method": "in_writing"},
}


def acceptable_body(path: str, seeded: Seeded) -> dict[str, Any] | None:
    if path == "/cases/{case_id}/releases":
        return release_form(seeded.case_id)
    return ACCEPTABLE_BODIES.get(path)


RECORD_PARAMETERS = ("{referral_id}", "{case_id}", "{message_id}")
# The ledger is county-wide: auditors read all of it by design (DESIGN.md §1), so the wall
# between jurisdictions is not theirs to meet.
COUNTY_WIDE = {("audit", "auditor")}


def outsiders(system: System, service: str, role: str) -> dict[str, str]:
    home = home_agency(service, role)
    return {
        "another agency": token(system, service, role, agency=f"rival-{home}"),
        "another jurisdiction": token(system, service, role, jurisdiction="oakland-county"),
    }


@pytest.mark.timeout(240)
async def test_no_agency_or_jurisdiction_reads_or_changes_what_is_not_theirs(
    system: System, seeded: Seeded
) -> None:
    pools = {name: service.runtime.pool for name, service in system.services.items()}
    before = {name: await domain_events_stored(pool) for name, pool in pools.items()}
    secrets = {
        str(seeded.referral_id),
        str(seeded.case_id),
        str(seeded.awaiting_review),
        str(seeded.message_id),
        str(seeded.goal_id),
        CARE_DETAIL,
    }
    wrong: list[str] = []
    for (service, method, path), operation in sorted(OPERATIONS.items()):
        if operation.roles is None:
            continue
        about_a_record = any(p in path for p in RECORD_PARAMETERS)
        if method != "GET" and not about_a_record:
            continue  # changes to one's own settings (roster, addresses, subscriptions)
        for role in sorted(operation.roles & set(ROLES)):
            if (service, role) in COUNTY_WIDE:
                continue
            for who, bearer in outsiders(system, service, role).items():
                async with system.client(service, bearer) as client:
                    answer = await client.request(
                        method,
                        path.format(**seeded.path_values()),
                        params=operation.query or None,
                        json=acceptable_body(path, seeded) if method != "GET" else None,
                    )
                wrong.extend(
                    _judge(
                        f"{method} {service}{path} as {role} of {who}",
                        answer,
                        secrets,
                        about_a_record,
                    )
                )
    assert not wrong, "\n".join(wrong)

    # Nothing the outsiders sent changed anything: no domain event in any service, and the
    # officer's message is as unread as it was.
    after = {name: await domain_events_stored(pool) for name, pool in pools.items()}
    assert after == before
    async with system.client("notify", token(system, "notify", "officer")) as notify:
        unread = (await notify.get("/inbox", params={"status": "unread"})).json()
    assert str(seeded.message_id) in {m["message_id"] for m in unread}


def _judge(
    where: str, answer: httpx.Response, secrets: set[str], about_a_record: bool
) -> list[str]:
    status = answer.status_code
    if status >= 500:
        return [f"{where}: server error {status}"]
    if about_a_record and status not in (403, 404):
        return [f"{where}: {status}, expected 403 or 404: {answer.text[:200]}"]
    # A refusal may repeat the ids the caller sent; it must not add any they did not.
    asked = str(answer.request.url)
    leaked = sorted(s for s in secrets if s in answer.text and s not in asked)
    return [f"{where}: the answer holds {leaked}"] if leaked else []

"""A case command retried under its Idempotency-Key after its first attempt was stored but the
answer, and the middleware's claim with it, were lost (servicekit.idempotency's window: the
command's transaction committed, the claim's did not; the process died between the two). The
claim rows are deleted here to stand for that loss: what is left is exactly what the database
holds after it. Every retry must be answered as the first attempt was and store nothing again."""

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID, uuid4

import httpx

from tests.casework.consent import release_form
from tests.casework.harness import Casework
from tests.casework.test_case_commands_http import ASSESSMENT, contact, new_case

Send = Callable[[str, dict[str, Any]], Awaitable[httpx.Response]]


async def forget_the_claims(casework: Casework) -> None:
    """What a kill between the command's commit and the claim's leaves: no claim at all."""
    await casework.service.runtime.pool.execute("DELETE FROM idempotency_keys")


async def once_after_the_window(
    casework: Casework, case_id: UUID, send: Send, status: int = 200
) -> dict[str, Any]:
    """Sends a command, loses its claim, sends it again with the same key and body; the two
    answers are one, and the case's stream grew only with the first."""
    key = f"retry-{uuid4()}"
    first = await send(key, {})
    assert first.status_code == status, first.text
    stored = len(await casework.events(case_id))
    await forget_the_claims(casework)
    retry = await send(key, {})
    assert (retry.status_code, retry.json()) == (first.status_code, first.json())
    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert len(await casework.events(case_id)) == stored, "the retry stored something again"
    answer: dict[str, Any] = first.json()
    return answer


def sender(http: httpx.AsyncClient, method: str, path: str, body: dict[str, Any]) -> Send:
    async def send(key: str, change: dict[str, Any]) -> httpx.Response:
        return await http.request(
            method, path, json={**body, **change}, headers={"Idempotency-Key": key}
        )

    return send


async def test_every_case_command_retried_past_a_lost_claim_is_answered_as_the_first_was(
    casework: Casework,
) -> None:
    await casework.register("cm-1", "cm-2")
    case_id = await new_case(casework)
    base = f"/cases/{case_id}"
    prosecutor = casework.client(casework.token("p-1", "prosecutor", "oakland-prosecutor"))
    supervisor = casework.staff("supervisor-1", "supervisor")
    async with casework.staff("cm-1") as cm, prosecutor, supervisor:

        async def again(
            http: httpx.AsyncClient, method: str, path: str, body: Any, status: int = 200
        ) -> dict[str, Any]:
            return await once_after_the_window(
                casework, case_id, sender(http, method, base + path, body), status
            )

        assessed = await again(cm, "POST", "/intake-assessment", ASSESSMENT)
        assert assessed["stored"] == ["IntakeAssessmentCompleted"]
        logged = await again(cm, "POST", "/contacts", contact(2), 201)
        assert logged["stored"] == ["ContactLogged", "ClientEngaged"]
        await again(cm, "POST", "/circumstances", {"housing": "temporary"}, 201)
        goal = (await again(cm, "POST", "/goals", {"description": "ID card"}, 201))["id"]
        await again(cm, "PATCH", f"/goals/{goal}", {"description": "ID card and lease"})
        await again(cm, "POST", f"/goals/{goal}/achieved", {})
        other = (await again(cm, "POST", "/goals", {"description": "a job"}, 201))["id"]
        await again(cm, "POST", f"/goals/{other}/dropped", {})
        made = await again(
            cm, "POST", "/service-referrals", {"service": "detox", "provider": "Detox"}, 201
        )
        await again(
            cm, "POST", f"/service-referrals/{made['id']}/outcome", {"outcome": "completed"}
        )
        release = await again(cm, "POST", "/releases", release_form(case_id), 201)
        revoked = await again(
            cm, "POST", f"/releases/{release['release_id']}/revocation", {"method": "in_writing"}
        )
        assert revoked["status"] == "revoked"
        await again(
            cm, "POST", "/non-compliance", {"condition": "keep in contact with the case manager"}
        )
        decided = await again(prosecutor, "POST", "/prosecutor-decision", {"decision": "continue"})
        assert decided["stored"] == ["ProsecutorDecisionRecorded"]
        arrest = await again(prosecutor, "POST", "/arrests", {"arrested_on": "2026-01-05"}, 201)
        assert arrest["stored"] == ["NewArrestReported"]
        assigned = await again(supervisor, "PUT", "/case-manager", {"case_manager": "cm-2"})
        assert assigned["case"]["case_manager"] == "cm-2"
        closed = await again(cm, "POST", "/closure", {"reason": "graduated"})
        assert closed["case"]["phase"] == "closed"

    stored = [e.event_type for e in await casework.events(case_id)]
    assert stored.count("InterventionPlanUpdated") == 5
    assert stored.count("ContactLogged") == 1 and stored.count("CaseClosed") == 1


async def test_a_key_reused_for_another_command_past_a_lost_claim_is_refused(
    casework: Casework,
) -> None:
    await casework.register("cm-1")
    case_id = await new_case(casework)
    path = f"/cases/{case_id}/contacts"
    key = {"Idempotency-Key": f"reused-{uuid4()}"}
    async with casework.staff("cm-1") as cm:
        first = await cm.post(path, json=contact(3), headers=key)
        assert first.status_code == 201, first.text
        stored = len(await casework.events(case_id))
        await forget_the_claims(casework)
        other = await cm.post(path, json=contact(5), headers=key)
        elsewhere = await cm.post(f"/cases/{case_id}/goals", json={"description": "x"}, headers=key)
    for refused in (other, elsewhere):
        assert refused.status_code == 422, refused.text
        assert refused.json()["type"].endswith("/idempotency-key-reused")
    assert len(await casework.events(case_id)) == stored


async def test_a_refused_command_leaves_its_key_to_the_command_meant(casework: Casework) -> None:
    """Refused in the case's state (409, nothing stored): the key is bound to nothing by the
    command itself, so once the claim is gone the same request runs afresh."""
    await casework.register("cm-1")
    case_id = await new_case(casework)
    key = {"Idempotency-Key": f"refused-{uuid4()}"}
    body = {"condition": "keep in contact with the case manager"}
    async with casework.staff("cm-1") as cm:
        assert (await cm.post(f"/cases/{case_id}/non-compliance", json=body)).status_code == 200
        refused = await cm.post(f"/cases/{case_id}/non-compliance", json=body, headers=key)
        assert refused.status_code == 409, refused.text
        await forget_the_claims(casework)
        again = await cm.post(f"/cases/{case_id}/non-compliance", json=body, headers=key)
    assert again.status_code == 409 and "Idempotent-Replayed" not in again.headers, again.text

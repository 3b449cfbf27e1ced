"""Idempotency-Key on every state-changing operation of every service (issue 19): a retry with
the same key and request answers what the first attempt answered, and does nothing again; the
same key with another request is refused; a request refused before its command ran (who may
call it, what may be sent) is judged afresh and leaves the key free.

The operations come from each service's own OpenAPI document, as in the role matrix, so a new
endpoint is retried here without anyone listing it.
"""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest

from tests.access.conftest import Seeded, subject_of, token
from tests.access.policy import OPERATIONS, home_agency
from tests.access.test_role_matrix import openapi_operations
from tests.conftest import System

STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
PROBLEM = "application/problem+json"


def _key() -> str:
    return f"retry-{uuid4()}"


async def _send(
    system: System,
    key: tuple[str, str, str],
    values: dict[str, str],
    idempotency_key: str,
    body: dict[str, Any],
) -> httpx.Response:
    service, method, path = key
    roles = OPERATIONS[key].roles
    assert roles, f"{key} changes state and must name who may call it"
    bearer = token(system, service, sorted(roles)[0])
    async with system.client(service, bearer) as client:
        return await client.request(
            method,
            path.format(**values),
            params=OPERATIONS[key].query or None,
            json=body,
            headers={"Idempotency-Key": idempotency_key},
        )


@pytest.mark.timeout(240)
async def test_every_state_changing_operation_takes_an_idempotency_key(
    system: System, seeded: Seeded
) -> None:
    operations = {
        key: operation
        for key, operation in (await openapi_operations(system)).items()
        if key[1] in STATE_CHANGING
    }
    assert len(operations) > 10, "the walk found the services' commands"
    wrong: list[str] = []
    kept: list[tuple[str, str, str]] = []
    for key, operation in sorted(operations.items()):
        named = [p for p in operation.get("parameters", []) if p["name"] == "Idempotency-Key"]
        if not named or named[0]["in"] != "header":
            wrong.append(f"{key}: its OpenAPI operation does not name the Idempotency-Key header")
        # Once per operation: the made-up ids are new each time.
        idempotency_key, values = _key(), seeded.path_values()
        first = await _send(system, key, values, idempotency_key, {})
        retry = await _send(system, key, values, idempotency_key, {})
        if first.status_code >= 500:
            wrong.append(f"{key}: {first.status_code} {first.text[:200]}")
            continue
        if (retry.status_code, retry.content) != (first.status_code, first.content):
            wrong.append(
                f"{key}: the retry answered {retry.status_code} {retry.text[:200]}, the first "
                f"attempt {first.status_code} {first.text[:200]}"
            )
        if not _kept(first):
            # Refused before the command ran: judged afresh, never bound to the key.
            if "Idempotent-Replayed" in retry.headers:
                wrong.append(f"{key}: a {first.status_code} before the command ran was kept")
            continue
        kept.append(key)
        if retry.headers.get("Idempotent-Replayed") != "true":
            wrong.append(f"{key}: the retry was not the first answer replayed")
        other = await _send(system, key, values, idempotency_key, {"another": "request"})
        if other.status_code != 422 or other.headers["content-type"] != PROBLEM:
            wrong.append(f"{key}: the key reused for another request gave {other.status_code}")
        elif not other.json()["type"].endswith("/idempotency-key-reused"):
            wrong.append(f"{key}: the key reused for another request gave {other.text[:200]}")
    assert not wrong, "\n".join(wrong)
    # Bodies of `{}` are mostly invalid; the operations that take none, and the domain's own
    # refusals of the seeded records, must still have been replayed.
    assert len(kept) >= 5, f"too few answers were kept to prove the replay: {kept}"


def _kept(answer: httpx.Response) -> bool:
    if answer.status_code in (401, 403, 405, 413, 415) or answer.status_code >= 500:
        return False
    if answer.status_code == 422 and answer.headers["content-type"] == PROBLEM:
        return not answer.json()["type"].endswith(("/invalid-request", "/unstorable-text"))
    return True


async def test_a_retried_case_command_is_stored_once_and_answered_the_same(
    system: System, seeded: Seeded
) -> None:
    """A case manager with bad signal logs one contact, sends it again, and again several
    times at once: one contact, one answer."""
    contacted_at = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
    body = {"contacted_at": contacted_at.isoformat(), "method": "in_person"}
    headers = {"Idempotency-Key": _key()}
    path = f"/cases/{seeded.case_id}/contacts"
    async with system.client("casework", token(system, "casework", "case_manager")) as cm:
        before = (await cm.get(f"/cases/{seeded.case_id}")).json()["contacts"]
        first = await cm.post(path, json=body, headers=headers)
        retries = [await cm.post(path, json=body, headers=headers)]
        retries += await asyncio.gather(
            *(cm.post(path, json=body, headers=headers) for _ in range(4))
        )
        after = (await cm.get(f"/cases/{seeded.case_id}")).json()["contacts"]
        fresh = await cm.post(path, json=body, headers={"Idempotency-Key": _key()})
    assert first.status_code == 201, first.text
    assert first.json()["stored"] == ["ContactLogged"]
    for retry in retries:
        assert (retry.status_code, retry.json()) == (201, first.json())
        assert retry.headers["Idempotent-Replayed"] == "true"
    assert after == before + 1, "the retries stored nothing"
    assert fresh.status_code == 201 and fresh.json()["id"] != first.json()["id"]


async def test_keys_belong_to_their_caller(system: System, seeded: Seeded) -> None:
    """Another person's key is not theirs to replay: the same key from someone else is a new
    request of their own."""
    path = f"/cases/{seeded.case_id}/contacts"
    at = (datetime.now(UTC) - timedelta(hours=2)).replace(microsecond=0).isoformat()
    body = {"contacted_at": at, "method": "phone"}
    headers = {"Idempotency-Key": _key()}
    manager = token(system, "casework", "case_manager")
    supervisor = token(system, "casework", "supervisor")
    async with system.client("casework", manager) as cm:
        mine = await cm.post(path, json=body, headers=headers)
    async with system.client("casework", supervisor) as sup:
        theirs = await sup.post(path, json=body, headers=headers)
    assert mine.status_code == 201, mine.text
    assert "Idempotent-Replayed" not in theirs.headers
    assert theirs.status_code != 201 or theirs.json()["id"] != mine.json()["id"]


async def test_an_answer_is_never_replayed_to_a_caller_the_first_checks_did_not_pass(
    system: System, seeded: Seeded
) -> None:
    """The same person with a token of other roles sends the same key and request: the request
    is judged again (403), not answered with what the case manager was allowed."""
    path = f"/cases/{seeded.case_id}/contacts"
    at = (datetime.now(UTC) - timedelta(hours=3)).replace(microsecond=0).isoformat()
    body = {"contacted_at": at, "method": "phone"}
    headers = {"Idempotency-Key": _key()}
    async with system.client("casework", token(system, "casework", "case_manager")) as cm:
        allowed = await cm.post(path, json=body, headers=headers)
    other_roles = system.token(
        sub=subject_of("case_manager"),
        role="officer",
        agency=home_agency("casework", "case_manager"),
    )
    async with system.client("casework", other_roles) as same_person:
        refused = await same_person.post(path, json=body, headers=headers)
    assert allowed.status_code == 201, allowed.text
    assert refused.status_code == 403, refused.text
    assert "Idempotent-Replayed" not in refused.headers


async def test_a_request_refused_before_it_ran_leaves_the_key_for_the_one_meant(
    system: System, seeded: Seeded
) -> None:
    """A contact sent with a mistake (422 invalid-request) and then corrected under the same
    key: the corrected one is stored, not refused as a reused key."""
    path = f"/cases/{seeded.case_id}/contacts"
    at = (datetime.now(UTC) - timedelta(hours=4)).replace(microsecond=0).isoformat()
    headers = {"Idempotency-Key": _key()}
    async with system.client("casework", token(system, "casework", "case_manager")) as cm:
        mistaken = await cm.post(path, json={"contacted_at": at}, headers=headers)
        corrected = await cm.post(
            path, json={"contacted_at": at, "method": "phone"}, headers=headers
        )
        again = await cm.post(path, json={"contacted_at": at, "method": "phone"}, headers=headers)
    assert mistaken.status_code == 422 and mistaken.json()["type"].endswith("/invalid-request")
    assert corrected.status_code == 201, corrected.text
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == corrected.json()


async def test_an_undocumented_method_is_still_405_with_a_key(system: System) -> None:
    async with system.client("intake", token(system, "intake", "officer")) as intake:
        for _ in range(2):
            response = await intake.patch(
                "/referrals", json={}, headers={"Idempotency-Key": "the-same-key"}
            )
            assert response.status_code == 405, response.text

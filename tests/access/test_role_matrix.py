"""Every endpoint of every service, called with every role: who passes, who is refused, and what
each may see (DESIGN.md rules 7 and 11, issue 6).

The operations come from each service's own OpenAPI document, so an endpoint nobody classified
in `policy.OPERATIONS` fails the walk instead of going unchecked.
"""

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.access.conftest import CARE_DETAIL, Seeded, token
from tests.access.policy import (
    CARE_AGENCY,
    CASE_STAFF,
    LAW_ENFORCEMENT,
    MIXED_CALLERS,
    OPERATIONS,
    ROLES,
    Caller,
    Operation,
    passes_gate,
)
from tests.conftest import System

SERVICES = ("intake", "casework", "notify", "audit", "outcomes")
PROBLEM = "application/problem+json"

# Field names that only care fills (casework's CaseView and its events). Law enforcement's
# projections must not even have them; generic names (`outcome`, `description`) are left to the
# marker check, since a rule's outcome or an offence's description is law enforcement's own.
CLINICAL_FIELDS = frozenset(
    {
        "notes",
        "needs",
        "assessment",
        "details",
        "goals",
        "service_referrals",
        "provider",
        "contacts",
        "last_contact_at",
        "substances",
        "diagnosis",
        "engaged",
        "inactive",
        "active_again",
        "intake_deadline",
        "closure_reason",
        "progress_reports",
        "non_compliance_reports",
    }
)
# Who reads care details: the case's own agency, and the auditor who reads the whole ledger.
SEES_CARE = CASE_STAFF | {"auditor"}


async def openapi_operations(system: System) -> dict[tuple[str, str, str], dict[str, Any]]:
    found: dict[tuple[str, str, str], dict[str, Any]] = {}
    for service in SERVICES:
        async with system.client(service) as client:
            document = (await client.get("/openapi.json")).json()
        for path, methods in document["paths"].items():
            for method, operation in methods.items():
                found[(service, method.upper(), path)] = {**operation, "document": document}
    return found


def keys_in(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from keys_in(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from keys_in(inner)


async def call(
    system: System, key: tuple[str, str, str], seeded: Seeded, bearer: str | None
) -> httpx.Response:
    service, method, path = key
    operation = OPERATIONS[key]
    url = path.format(**seeded.path_values())
    body: dict[str, object] | None = None if method in ("GET", "DELETE") else {}
    async with system.client(service, bearer) as client:
        return await client.request(method, url, params=operation.query or None, json=body)


async def test_every_operation_of_every_service_has_decided_roles(system: System) -> None:
    served = set(await openapi_operations(system))
    assert served - set(OPERATIONS) == set(), "operations nobody decided the roles of"
    assert set(OPERATIONS) - served == set(), "decided operations that no service serves"


async def test_law_enforcement_reads_projections_with_no_clinical_fields(system: System) -> None:
    """Structural: the response schema of every read open to officers or prosecutors has no
    field that care could fill, so no code path can put a care detail in it."""
    operations = await openapi_operations(system)
    for key, operation in operations.items():
        decided = OPERATIONS[key]
        if key[1] != "GET" or decided.roles is None or not decided.roles & LAW_ENFORCEMENT:
            continue
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        fields = set(_schema_fields(schema, operation["document"]))
        assert not fields & CLINICAL_FIELDS, (key, fields & CLINICAL_FIELDS)


async def test_law_enforcement_is_answered_with_no_clinical_fields_by_any_command(
    system: System,
) -> None:
    """The same for what a command open to officers or prosecutors answers (a report of an
    arrest by identifiers, a prosecutor's decision, a referral): no field care could fill."""
    operations = await openapi_operations(system)
    checked = []
    for key, operation in operations.items():
        decided = OPERATIONS[key]
        if key[1] == "GET" or decided.roles is None or not decided.roles & LAW_ENFORCEMENT:
            continue
        for status, answer in operation["responses"].items():
            schema = answer.get("content", {}).get("application/json", {}).get("schema")
            if not status.startswith("2") or schema is None:
                continue
            fields = set(_schema_fields(schema, operation["document"]))
            assert not fields & CLINICAL_FIELDS, (key, fields & CLINICAL_FIELDS)
            checked.append(key)
    assert ("intake", "POST", "/arrests") in checked
    assert ("casework", "POST", "/cases/{case_id}/prosecutor-decision") in checked


def _schema_fields(schema: Any, document: dict[str, Any]) -> Iterator[str]:
    if isinstance(schema, dict):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            yield from _schema_fields(document["components"]["schemas"][name], document)
            return
        for name, inner in schema.get("properties", {}).items():
            yield name
            yield from _schema_fields(inner, document)
        for part in ("items", "anyOf", "allOf", "oneOf", "additionalProperties"):
            inner = schema.get(part)
            for each in inner if isinstance(inner, list) else [inner]:
                yield from _schema_fields(each, document)


@pytest.fixture(autouse=True)
def checkpoint_often(monkeypatch: pytest.MonkeyPatch) -> None:
    """So that the ledger has checkpoints for the auditor's proofs to answer 200."""
    monkeypatch.setenv("OFFRAMP_CHECKPOINT_EVERY_ENTRIES", "3")


@pytest.mark.timeout(240)
async def test_every_role_on_every_endpoint(system: System, seeded: Seeded) -> None:
    wrong: list[str] = []
    for key, operation in sorted(OPERATIONS.items()):
        service = key[0]
        anonymous = await call(system, key, seeded, None)
        if operation.roles is None:
            if anonymous.status_code != 200:
                wrong.append(f"{key} without a token: {anonymous.status_code}, expected 200")
            continue
        if anonymous.status_code != 401 or anonymous.headers["content-type"] != PROBLEM:
            wrong.append(f"{key} without a token: {anonymous.status_code}, expected 401")
        answers = await asyncio.gather(
            *(call(system, key, seeded, token(system, service, role)) for role in ROLES)
        )
        for role, answer in zip(ROLES, answers, strict=True):
            wrong.extend(_judge(key, operation, role, answer))
    assert not wrong, "\n".join(wrong)

    # The marker is really there to be found: the auditor's ledger holds the care details.
    async with system.client("audit", token(system, "audit", "auditor")) as audit:
        history = await audit.get(f"/ledger/cases/{seeded.case_id}/history")
    assert CARE_DETAIL in history.text
    # And case staff read it in the goal's wording and the provider, in the case and its history.
    async with system.client("casework", token(system, "casework", "case_manager")) as casework:
        for path in (f"/cases/{seeded.case_id}", f"/cases/{seeded.case_id}/history"):
            assert CARE_DETAIL in (await casework.get(path)).text, path


def _judge(
    key: tuple[str, str, str], operation: Operation, role: str, answer: httpx.Response
) -> list[str]:
    assert operation.roles is not None
    status = answer.status_code
    where = f"{key} as {role}: {status}"
    if status >= 500:
        return [f"{where}, a server error: {answer.text[:200]}"]
    if role not in operation.roles:
        if status != 403 or answer.headers["content-type"] != PROBLEM:
            return [f"{where}, expected 403 problem+json"]
        return []
    if status in (401, 403):
        return [f"{where}, expected to pass the gate: {answer.text[:200]}"]
    if key[1] != "GET":
        return []
    if status == 404 and operation.may_be_absent:
        return []
    if status != 200:
        return [f"{where}, expected the read to answer 200: {answer.text[:200]}"]
    seen: list[str] = []
    if role not in SEES_CARE and CARE_DETAIL in answer.text:
        seen.append(f"{where}, a care detail reached {role}")
    if role in LAW_ENFORCEMENT:
        leaked = set(keys_in(json.loads(answer.text))) & CLINICAL_FIELDS
        if leaked:
            seen.append(f"{where}, clinical fields {sorted(leaked)} reached {role}")
    return seen


def mixed_token(system: System, caller: Caller) -> str:
    return system.issuer.issue(
        subject=caller.subject,
        roles=list(caller.roles),
        agency=caller.agency,
        jurisdiction=system.jurisdiction,
    )


@pytest.mark.timeout(240)
async def test_multi_role_and_police_supervisor_tokens_on_every_endpoint(
    system: System, seeded: Seeded
) -> None:
    """A law-enforcement role anywhere in a token never passes a care-staff gate, a police
    supervisor is not a case-management supervisor (nor the reverse in intake), and nothing
    any such token is shown holds a care detail unless it is care staff's own (issue 14)."""
    wrong: list[str] = []
    for key in sorted(k for k, op in OPERATIONS.items() if op.roles is not None):
        answers = await asyncio.gather(
            *(call(system, key, seeded, mixed_token(system, c)) for c in MIXED_CALLERS)
        )
        for caller, answer in zip(MIXED_CALLERS, answers, strict=True):
            wrong.extend(_judge_mixed(key, caller, answer))
    assert not wrong, "\n".join(wrong)


def _judge_mixed(key: tuple[str, str, str], caller: Caller, answer: httpx.Response) -> list[str]:
    status = answer.status_code
    where = f"{key} as {caller.name}: {status}"
    if status >= 500:
        return [f"{where}, a server error: {answer.text[:200]}"]
    if not passes_gate(key, caller):
        if status != 403 or answer.headers["content-type"] != PROBLEM:
            return [f"{where}, expected 403 problem+json: {answer.text[:200]}"]
        return []
    refused_at_gate = "This needs" in answer.text or "care staff only" in answer.text
    if status == 401 or (status == 403 and refused_at_gate):
        return [f"{where}, expected to pass the gate: {answer.text[:200]}"]
    care_staff = not caller.law_enforcement and caller.agency == CARE_AGENCY
    sees_care = care_staff or "auditor" in caller.roles
    seen: list[str] = []
    if not sees_care and CARE_DETAIL in answer.text:
        seen.append(f"{where}, a care detail reached {caller.name}")
    if caller.law_enforcement and key[1] == "GET" and status == 200:
        leaked = set(keys_in(json.loads(answer.text))) & CLINICAL_FIELDS
        if leaked:
            seen.append(f"{where}, clinical fields {sorted(leaked)} reached {caller.name}")
    return seen

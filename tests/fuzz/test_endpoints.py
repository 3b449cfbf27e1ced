"""Property-based fuzzing of every endpoint of every service, from each service's own OpenAPI
document (issue 7): no input, from any caller, gets a 5xx; every error is an RFC 9457 problem;
answers conform to the document; a refused request stores no domain event."""

from typing import TYPE_CHECKING
from uuid import uuid4

import httpx
import pytest
import schemathesis

from tests.fuzz.conftest import FuzzedSystem
from tests.fuzz.documents import SERVICES, schemas
from tests.referrals import fresh_key, referral_body

if TYPE_CHECKING:
    # Schemathesis names its OpenAPI case and operation types only for type checkers.
    from schemathesis.specs.openapi.schemas import OpenApiCase


def test_the_check_for_stored_events_sees_what_a_request_stored(
    fuzzed_system: FuzzedSystem,
) -> None:
    """The check the fuzz makes after each refusal finds events by the request's correlation id;
    here it must find those of an accepted referral, or it would pass by finding nothing."""
    officer = next(c for c in fuzzed_system.callers if c.name == "officer")
    correlation_id = str(uuid4())
    response = httpx.post(
        f"{fuzzed_system.services['intake'].url}/referrals",
        json=referral_body(),
        headers={**officer.headers(), **fresh_key(), "X-Correlation-Id": correlation_id},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    assert "ReferralReceived" in fuzzed_system.events_with_correlation(correlation_id)


@schemathesis.pytest.parametrize(**schemas())
def test_no_request_breaks_a_service(case: "OpenApiCase", fuzzed_system: FuzzedSystem) -> None:
    fuzzed_system.target(case).send(case)


@pytest.mark.parametrize("service", SERVICES)
def test_the_fuzz_reached_every_documented_endpoint(
    service: str, fuzzed_system: FuzzedSystem
) -> None:
    """After the fuzz of the module: each operation the running service documents was called,
    got past authentication at least once and, unless public, was refused at least once."""
    target = fuzzed_system.targets.get(service)
    assert target is not None, f"the fuzz of {service} did not run before this test"
    document = httpx.get(f"{target.url}/openapi.json", timeout=30).json()
    documented = {
        f"{method.upper()} {path}"
        for path, methods in document["paths"].items()
        for method in methods
    }
    assert documented, "the service documents no endpoint"
    never = sorted(documented - target.answers.keys())
    assert not never, f"{service}: the fuzzer never called {never}"
    not_past_auth = sorted(op for op in documented if not target.answers[op].reached_past_auth())
    assert not not_past_auth, f"{service}: no fuzzed request got past auth for {not_past_auth}"
    never_refused = sorted(
        op
        for op in documented
        if not target.public(op) and not target.answers[op].refused_for_auth()
    )
    assert not never_refused, f"{service}: no fuzzed request was refused for {never_refused}"

"""One service under fuzz: who may call each of its operations, which caller and which known ids a
generated request goes with, what each answer must satisfy, and what was exercised."""

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import requests
import schemathesis
from schemathesis.core import NotSet
from schemathesis.core.parameters import ParameterLocation

from tests.fuzz.callers import Caller

if TYPE_CHECKING:
    # Schemathesis names its OpenAPI case and operation types only for type checkers.
    from schemathesis.specs.openapi.schemas import OpenApiCase, OpenApiOperation

# Stored for every read and every refusal by design (issue 6): the one trace a refusal leaves.
ACCESS_EVENTS = ("RecordAccessed", "AccessDenied")
AUTH_REFUSALS = (401, 403)
# Refusals of a request's form that come before anyone asks who is calling: a body that cannot
# be read or parsed as JSON (FastAPI reads it first), a method the path lacks, a body too large,
# a body not sent as JSON.
FORM_REFUSALS = (400, 405, 413, 415, 422)
PROBLEM_JSON = "application/problem+json"

EventsOf = Callable[[str], list[str]]


@dataclass
class Answers:
    """What one operation answered during the fuzz, by caller."""

    statuses: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))

    def reached_past_auth(self) -> bool:
        return any(s - set(AUTH_REFUSALS) for s in self.statuses.values())

    def refused_for_auth(self) -> bool:
        return any(s & set(AUTH_REFUSALS) for s in self.statuses.values())


@dataclass
class Target:
    service: str
    url: str
    callers: tuple[Caller, ...]
    seeds: dict[str, list[Any]]
    events_with_correlation: EventsOf
    session: requests.Session = field(default_factory=requests.Session)
    # Per operation label: the callers that got past authentication and authorisation when
    # probed, so that most generated requests reach the handler and the rest are refusals.
    admitted: dict[str, tuple[Caller, ...]] = field(default_factory=dict)
    refused: dict[str, tuple[Caller, ...]] = field(default_factory=dict)
    answers: dict[str, Answers] = field(default_factory=lambda: defaultdict(Answers))

    def probe(self, operations: list["OpenApiOperation"]) -> None:
        """Ask each operation once per caller, with no body and known ids: an answer other than
        401 or 403 means the caller's token and role got past the checks that come first.
        Callers without a valid token are all answered alike: the first of them asks for all."""
        tokenless = [c for c in self.callers if not c.authenticated]
        askers = [c for c in self.callers if c.authenticated] + tokenless[:1]
        for operation in operations:
            path = operation.path.format_map(
                _Placeholder({name: values[0] for name, values in self.seeds.items()})
            )
            admitted: list[Caller] = []
            refused: list[Caller] = []
            for caller in askers:
                response = self.session.request(
                    operation.method.upper(), self.url + path, headers=caller.headers(), timeout=30
                )
                let_in = response.status_code not in AUTH_REFUSALS
                alike = tokenless if not caller.authenticated else [caller]
                (admitted if let_in else refused).extend(alike)
            self.admitted[operation.label] = tuple(admitted)
            self.refused[operation.label] = tuple(refused)

    def public(self, label: str) -> bool:
        return any(not c.authenticated for c in self.admitted[label])

    def send(self, case: "OpenApiCase") -> None:
        """The case as someone who may call the operation and, if the request is valid and the
        operation not public, again as someone who may not (an invalid one would be refused
        for the same reason before its data is read). Which callers, and whether it names
        known ids, the case decides."""
        label = case.operation.label
        choice = _fingerprint(case)
        valid = case.meta is None or case.meta.generation.mode.is_positive
        if _valid_path(case):
            self._aim_at_known_ids(case, choice)
        admitted, refused = self.admitted[label], self.refused[label]
        if admitted:
            self._send_as(admitted[choice % len(admitted)], case)
        if refused and valid:
            self._send_as(refused[choice % len(refused)], case)

    def _send_as(self, caller: Caller, case: "OpenApiCase") -> None:
        label = case.operation.label
        correlation_id = str(uuid4())
        response = case.call(
            base_url=self.url,
            session=self.session,
            # The caller's name shows in a failure's curl line, where the token is filtered out.
            headers={
                **caller.headers(),
                "X-Correlation-Id": correlation_id,
                "X-Fuzz-Caller": caller.name,
            },
            timeout=60,
        )
        if case.method.upper() == case.operation.method.upper():
            # Not the methods the path lacks, which the coverage phase tries too (405).
            self.answers[label].statuses[caller.name].add(response.status_code)
        case.validate_response(
            response,
            additional_checks=[
                _problem_details,
                self._no_stored_event_from_refusal(correlation_id),
                self._refused_callers_get_nothing(caller, label),
            ],
        )

    def _aim_at_known_ids(self, case: "OpenApiCase", choice: int) -> None:
        """Half of the requests name things that exist, so they get past the lookup: a body
        or query that breaks the schema must be refused even for a real case."""
        for offset, name in enumerate(sorted(case.path_parameters or {})):
            known = self.seeds.get(name)
            if known and (choice >> (8 + offset)) % 2 == 0:
                case.path_parameters[name] = known[(choice >> 16) % len(known)]

    def _no_stored_event_from_refusal(self, correlation_id: str) -> schemathesis.CheckFunction:
        def no_stored_event_from_refusal(
            ctx: schemathesis.CheckContext, response: Any, case: "OpenApiCase"
        ) -> None:
            if 400 <= response.status_code < 500:
                stored = self.events_with_correlation(correlation_id)
                assert not stored, (
                    f"{response.status_code} refusal stored events {stored} (correlation id "
                    f"{correlation_id}); a refused request must change nothing"
                )

        return no_stored_event_from_refusal

    def _refused_callers_get_nothing(
        self, caller: Caller, label: str
    ) -> schemathesis.CheckFunction:
        def refused_callers_get_nothing(
            ctx: schemathesis.CheckContext, response: Any, case: "OpenApiCase"
        ) -> None:
            if not caller.authenticated and not self.public(label):
                assert response.status_code in (401, *FORM_REFUSALS), (
                    f"{caller.name} got {response.status_code}; without a valid token the "
                    "answer is 401"
                )
                if response.status_code == 401:
                    assert _header(response, "www-authenticate").startswith("Bearer")
            if caller in self.refused[label]:
                assert not 200 <= response.status_code < 300, (
                    f"{caller.name} may not call {label}, yet got {response.status_code}"
                )

        return refused_callers_get_nothing


def _valid_path(case: "OpenApiCase") -> bool:
    """Whether the generated path parameters keep to the schema (a case that breaks them must
    reach the service as generated)."""
    if case.meta is None:
        return True
    path = case.meta.components.get(ParameterLocation.PATH)
    return path is None or path.mode.is_positive


def _problem_details(ctx: schemathesis.CheckContext, response: Any, case: "OpenApiCase") -> None:
    """Every error is an RFC 9457 problem that says what was wrong."""
    if response.status_code < 400:
        return
    content_type = _header(response, "content-type")
    assert content_type.startswith(PROBLEM_JSON), (
        f"error {response.status_code} is {content_type!r}, not {PROBLEM_JSON}"
    )
    problem = json.loads(response.content)
    assert isinstance(problem, dict), "a problem document is a JSON object"
    for member, kind in (("type", str), ("title", str), ("status", int), ("detail", str)):
        assert isinstance(problem.get(member), kind), f"problem lacks a {kind.__name__} {member!r}"
    assert problem["status"] == response.status_code, "the problem's status is the answer's"


def _header(response: Any, name: str) -> str:
    """Schemathesis keeps header names in lower case, each with a list of values."""
    values: list[str] = response.headers.get(name) or [""]
    return values[0]


class _Placeholder(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "00000000-0000-0000-0000-000000000000"


def _fingerprint(case: "OpenApiCase") -> int:
    """A number fixed by the generated request alone, so that a replayed or shrunk example goes
    with the same caller and ids: Hypothesis needs the test to be a function of its input."""

    def plain(value: Any) -> Any:
        if isinstance(value, NotSet):
            return "<no body>"
        if isinstance(value, bytes):
            return value.hex()
        return repr(value)

    material = json.dumps(
        [
            case.method,
            case.path,
            case.path_parameters,
            case.query,
            dict(case.headers or {}),
            case.body,
        ],
        sort_keys=True,
        default=plain,
    )
    return int.from_bytes(hashlib.sha256(material.encode()).digest()[:8], "big")

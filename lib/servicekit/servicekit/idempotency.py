"""Idempotency-Key on every state-changing request of every service (ADR 0011).

A client that lost an answer sends the request again with the same `Idempotency-Key` header:

- same caller, same key, same request (method, path, query and body, the body compared as
  canonical JSON): the first answer again, status and body, with `Idempotent-Replayed: true`,
  and nothing is done a second time;
- same caller and key, another request: 422 `idempotency-key-reused`, nothing done.

How: `IdempotentRequests`, an ASGI middleware, claims the key by inserting its row in a
transaction of its own that stays open while the request runs, and writes the answer into the
row before it commits. A concurrent retry waits on that row and then replays the answer; a
request whose process died leaves no row (its transaction died with it), so its retry runs. A
5xx answer is not kept (the request failed and may be tried again), nor a refusal before the
command ran (401, 403, 405, 413, 415, 422 invalid-request): as with Stripe's keys, those are
judged afresh, so a key is bound only to what a command did or why it refused. A method or path
the app does not document passes through untouched (the router's 405 or 404).

The window this does not close: the service's own transaction committed and the claim's did
not (the database went away, or the process was killed, between the two commits). A retry then
runs the command again; a command that must never run twice also claims its key in its own
transaction, with the fingerprint `command_key` gives (intake's referrals do, in
`submissions`; casework's case commands in `command_keys`).
"""

import functools
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import rfc8785
from fastapi import FastAPI, Request
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicekit.answer_book import Answer, AnswerBook
from servicekit.auth import Principal, TokenVerifier
from servicekit.log import get_logger
from servicekit.outages import is_outage
from servicekit.problems import PROBLEM_JSON, TYPE_BASE

log = get_logger(__name__)

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MIN_KEY, MAX_KEY = 8, 200
_WHAT = "x-offramp-idempotent-what"
_BY_ROUTE = "x-offramp-idempotent-by-route"
_PRINCIPAL = "principal"
_REPLAYED_HEADER = REPLAYED.lower().encode()
_NOT_KEPT = {b"content-length", _REPLAYED_HEADER}


def idempotent_what(noun: str) -> dict[str, Any]:
    """`openapi_extra` naming what a route makes, for the refusal of a reused key ("already
    used for a different <noun>"); merge with `participant_record(...)` if both apply."""
    return {_WHAT: noun}


def idempotent_by_route(noun: str) -> dict[str, Any]:
    """`openapi_extra` for a route that keeps its keys itself, in its command's own
    transaction (intake's referrals, in `submissions`): the middleware leaves its requests
    alone, which saves the claim's connection, transaction and four round trips. Such a route
    must answer a retry as the first attempt and refuse a reused key with 422
    `idempotency-key-reused`; a request it refused stored nothing and is judged afresh."""
    return {_WHAT: noun, _BY_ROUTE: True}


def fingerprint(method: str, path: str, query: bytes, body: bytes) -> str:
    """The request as a hash: a body that is JSON counts by its canonical form (RFC 8785), so
    the same fields in another order or spacing are the same request."""
    try:
        canonical = rfc8785.dumps(json.loads(body)) if body else b""
    except (ValueError, rfc8785.CanonicalizationError):
        canonical = body
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query, canonical):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def owner_of(principal: Principal) -> str:
    """Whose a key is: the same person with other roles or in another jurisdiction is another
    owner, so an answer is replayed only to a caller the first request's checks let through."""
    parts = (principal.jurisdiction, principal.agency, principal.subject, *sorted(principal.roles))
    return json.dumps(parts, separators=(",", ":"))


@dataclass(frozen=True)
class CommandKey:
    """A request's Idempotency-Key and fingerprint, for a command that claims its key in its
    own transaction as well (the window in the module's docstring): the same fingerprint the
    middleware keeps, so both judge "the same request" alike."""

    key: str
    fingerprint: str


async def command_key(request: Request) -> CommandKey | None:
    """None for a request sent without a key (a FastAPI dependency, or called from one)."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    body = await request.body()  # Starlette keeps it: the route's own parsing read it already
    scope = request.scope
    return CommandKey(
        key, fingerprint(scope["method"], scope["path"], scope.get("query_string", b""), body)
    )


@dataclass(frozen=True)
class Keyed:
    """What the middleware needs of the running service, looked up per request."""

    book: AnswerBook
    verifier: TokenVerifier


class IdempotentRequests:
    """The ASGI middleware described in the module's docstring."""

    def __init__(
        self, app: ASGIApp, keyed_of: Callable[[], Keyed], retry_after_seconds: int
    ) -> None:
        self.app = app
        self.keyed_of = keyed_of
        self.retry_after = retry_after_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, b"idempotency-key")
        if scope["type"] != "http" or scope["method"] not in STATE_CHANGING or key is None:
            await self.app(scope, receive, send)
            return
        if not MIN_KEY <= len(key) <= MAX_KEY:
            await _problem(
                send,
                scope,
                422,
                "invalid-idempotency-key",
                "The Idempotency-Key is not valid",
                f"An {HEADER} has {MIN_KEY} to {MAX_KEY} characters (a UUID is best).",
            )
            return
        operation = _operation(scope)
        if operation is None or operation.get(_BY_ROUTE):
            # Not a documented change (the router answers 405 or 404), or a route that keeps
            # its keys in its own transaction (`idempotent_by_route`).
            await self.app(scope, receive, send)
            return
        keyed = self.keyed_of()
        principal = _principal(scope, keyed.verifier)
        if principal is None:  # no usable token: the route refuses it, and nobody owns the key
            await self.app(scope, receive, send)
            return
        body = await _whole_body(receive)
        print_ = fingerprint(scope["method"], scope["path"], scope.get("query_string", b""), body)
        try:
            async with keyed.book.pool.acquire() as conn:
                await self._run_once(
                    scope, receive, send, conn, keyed.book, principal, key, body, print_
                )
        except Exception as error:
            if not is_outage(error):
                raise
            log.warning("idempotency claim met an outage", error=repr(error)[:300])
            await _problem(
                send,
                scope,
                503,
                "service-unavailable",
                "Temporarily unavailable",
                "The service's database is unavailable; nothing was done. Send the request "
                f"again in {self.retry_after} seconds with the same {HEADER}.",
                headers=[(b"retry-after", str(self.retry_after).encode())],
            )

    async def _run_once(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        conn: asyncpg.Connection,
        book: AnswerBook,
        principal: Principal,
        key: str,
        body: bytes,
        print_: str,
    ) -> None:
        transaction = conn.transaction()
        await transaction.start()
        try:
            earlier = await book.claim(conn, owner_of(principal), key, print_)
        except BaseException:
            await transaction.rollback()
            raise
        if earlier is not None:
            await transaction.rollback()
            first_print, answer = earlier
            scope.setdefault("state", {})[_PRINCIPAL] = principal
            if first_print != print_:
                await _problem(
                    send,
                    scope,
                    422,
                    "idempotency-key-reused",
                    "Refused",
                    f"The {HEADER} {key!r} was already used for a different {_what(scope)}; "
                    "send it with a new key.",
                )
                return
            await _send(send, answer, replayed=True)
            return
        try:
            answer, replayed = await self._answer(scope, receive, body)
        except BaseException:
            # The route raised past its handlers (the catch-all answers 500 outside) or the
            # request was cancelled: nothing is kept, so a retry runs.
            await _quietly_roll_back(transaction)
            raise
        if _kept(answer):
            try:
                await book.keep(conn, owner_of(principal), key, answer)
                await transaction.commit()
            except Exception:
                # The answer stands (what it reports is done); only its replay is lost.
                log.exception("could not keep an idempotent answer", key=key)
                await _quietly_roll_back(transaction)
        else:
            await _quietly_roll_back(transaction)
        await _send(send, answer, replayed=replayed)

    async def _answer(self, scope: Scope, receive: Receive, body: bytes) -> tuple[Answer, bool]:
        given = False

        async def replay_body() -> Message:
            nonlocal given
            if not given:
                given = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        status = 500
        headers: list[tuple[bytes, bytes]] = []
        parts: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(bytes(n), bytes(v)) for n, v in message.get("headers", [])]
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))

        await self.app(scope, replay_body, capture)
        kept = [(n, v) for n, v in headers if n.lower() not in _NOT_KEPT]
        # A command that recognised a retry itself (its own claim, inside its transaction)
        # says so; the header is added back on sending, and on every replay of the answer.
        replayed = any(n.lower() == _REPLAYED_HEADER for n, _ in headers)
        return Answer(status, kept, b"".join(parts)), replayed


def _header(scope: Scope, name: bytes) -> str | None:
    for header, value in scope.get("headers") or []:
        if header == name:
            return bytes(value).decode("latin-1")
    return None


def _principal(scope: Scope, verifier: TokenVerifier) -> Principal | None:
    scheme, _, token = (_header(scope, b"authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        return verifier.verify(token.strip())
    except Exception:
        return None


async def _whole_body(receive: Receive) -> bytes:
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(parts)


def _operation(scope: Scope) -> dict[str, Any] | None:
    """The app's documented operation this request is for, if any."""
    app = scope.get("app")
    if not isinstance(app, FastAPI):
        return None
    method = scope["method"].lower()
    for template, methods in app.openapi().get("paths", {}).items():
        operation = methods.get(method)
        if operation is not None and _path_pattern(template).match(scope["path"]):
            return dict(operation)
    return None


@functools.cache
def _path_pattern(template: str) -> re.Pattern[str]:
    return compile_path(template)[0]


def _what(scope: Scope) -> str:
    """What the route makes, as its OpenAPI operation names it (`idempotent_what`)."""
    operation = _operation(scope) or {}
    return str(operation.get(_WHAT, "request"))


# Refused before the command ran (who may call it, what may be sent): judged afresh on a retry,
# like any other request, so the key stays free for the request the client meant to send.
_NOT_RUN_STATUSES = frozenset({401, 403, 405, 413, 415})
_NOT_RUN_KINDS = frozenset({TYPE_BASE + "invalid-request", TYPE_BASE + "unstorable-text"})


def _kept(answer: Answer) -> bool:
    """Whether the answer is bound to the key: what the command did or why it refused; not a
    server error (the request may be tried again), nor a refusal before the command ran."""
    if answer.status >= 500 or answer.status in _NOT_RUN_STATUSES:
        return False
    if answer.status == 422 and dict(answer.headers).get(b"content-type") == PROBLEM_JSON.encode():
        try:
            kind = json.loads(answer.body).get("type")
        except (ValueError, AttributeError):
            return True
        return kind not in _NOT_RUN_KINDS
    return True


async def _quietly_roll_back(transaction: Any) -> None:
    try:
        await transaction.rollback()
    except Exception:
        log.warning("idempotency claim could not be rolled back; its session is gone")


async def _send(send: Send, answer: Answer, *, replayed: bool) -> None:
    headers = [*answer.headers, (b"content-length", str(len(answer.body)).encode())]
    if replayed:
        headers.append((_REPLAYED_HEADER, b"true"))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


async def _problem(
    send: Send,
    scope: Scope,
    status: int,
    kind: str,
    title: str,
    detail: str,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    body = json.dumps(
        {
            "type": TYPE_BASE + kind,
            "title": title,
            "status": status,
            "detail": detail,
            "instance": scope.get("path", ""),
        }
    ).encode()
    answer = Answer(status, [(b"content-type", PROBLEM_JSON.encode()), *(headers or [])], body)
    await _send(send, answer, replayed=False)

"""Every read of a participant's record, and every refused request, becomes an event that the
audit service appends to the ledger (DESIGN.md rule 11).

A route that reads or changes participants' records says so with `participant_record(...)` in its
`openapi_extra` (so its OpenAPI document says so too). `AccessTrail`, an ASGI middleware that
every service runs, then records, for each request that carried a verified token:

- `RecordAccessed` when a GET of such a route answers 2xx. The event is stored *before* the
  answer leaves the service; if it cannot be stored, the caller gets 503 instead of the records,
  so no read goes unrecorded.
- `AccessDenied` when any route answers 403 or 429, or such a route answers 404 (a record of
  another jurisdiction does not exist for the caller, and probing for one is worth knowing
  about). The refusal is sent whether or not the event could be stored: refusing is always safe.
  Identical refusals (same person, request, records, status and reason) are counted by a
  `RefusalTally`: the first is stored at once, its repeats within the window as one event with
  their count when the window closes, so a flood is counted in full and the ledger stays
  bounded (issue 14).

A request without a usable token (401) names nobody the service can vouch for, so it is logged,
not put in the ledger. Changes need no access event: the events they store name their actor.
"""

import getpass
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from uuid import UUID

import asyncpg
import uuid6
from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from offramp_contracts import EventEnvelope
from offramp_contracts.events.audit import (
    AccessDenied,
    AccessEvent,
    Accessor,
    RecordAccessed,
    RecordRef,
)
from servicekit import command_loop
from servicekit.auth import Principal
from servicekit.event_keys import event_signer
from servicekit.events import new_event, system_actor
from servicekit.eventstore import EventStore
from servicekit.log import get_logger
from servicekit.outbox import notify_channel
from servicekit.ports import StreamStore
from servicekit.problems import PROBLEM_JSON, TYPE_BASE
from servicekit.refusal_tally import RefusalTally
from servicekit.settings import ServiceSettings

log = get_logger(__name__)

RECORD_ROUTE = "x-offramp-participant-record"
_PRINCIPAL = "principal"
_SHOWN = "offramp.records_shown"


def participant_record(kind: str, id_param: str | None = None) -> dict[str, Any]:
    """`openapi_extra` of a route about participants' records of `kind`; `id_param` names the
    path parameter holding the record's id, if the route names one."""
    return {RECORD_ROUTE: {"kind": kind, "id_param": id_param}}


def remember_principal(request: Request, principal: Principal) -> None:
    request.state.principal = principal


def shown(request: Request, kind: str, ids: Iterable[object]) -> None:
    """A list's handler names the records its answer holds, for the RecordAccessed event."""
    refs: list[RecordRef] = request.scope.setdefault("state", {}).setdefault(_SHOWN, [])
    refs.extend(RecordRef(kind=kind, id=str(i)) for i in ids)


def accessor(principal: Principal) -> Accessor:
    return Accessor(
        subject=principal.subject,
        agency=principal.agency,
        jurisdiction=principal.jurisdiction,
        roles=tuple(sorted(principal.roles)),
    )


class AccessRecorder:
    """Stores access events in the service's own event store; the outbox takes them to the bus
    and the audit service to the ledger, like every other event."""

    def __init__(
        self, service: str, pool: asyncpg.Pool, store: EventStore, *, window_seconds: float
    ) -> None:
        self.service = service
        self.pool = pool
        self.store = store
        self.refusals = RefusalTally(self, window_seconds)

    async def record(
        self, payload: AccessEvent, *, jurisdiction: str, correlation_id: UUID | None
    ) -> None:
        """Stored and committed when this returns. One statement, which is its own transaction:
        each access has a stream of its own, so there is no stream to read or lock first, and
        every read of a record waits for one round trip and one commit instead of four."""
        event = _access_event(self.service, payload, jurisdiction, correlation_id)
        async with self.pool.acquire() as conn:
            await self.store.append_new_stream(conn, event)


async def record_lookup(
    conn: asyncpg.Connection,
    store: StreamStore,
    *,
    service: str,
    who: Principal,
    action: str,
    records: Sequence[RecordRef],
    correlation_id: UUID | None,
) -> None:
    """A look-up sent as a command (identifiers in a body, so no GET the trail would see) is
    recorded in the caller's transaction, with the records it matched (none, if none) and
    nothing of what was asked: the identifiers are not repeated in the ledger."""
    read = RecordAccessed(
        service=service,
        action=action,
        query="",
        who=accessor(who),
        records=tuple(records),
        status=200,
    )
    await _append(conn, store, service, read, who.jurisdiction, correlation_id)


async def record_command(
    conn: asyncpg.Connection,
    settings: ServiceSettings,
    *,
    command: str,
    arguments: dict[str, Any],
    records: Sequence[RecordRef],
    jurisdiction: str,
) -> None:
    """An operator's command on the server that reads participants' records is recorded like a
    read over HTTP, before it shows anything; who is the account that ran it."""
    read = RecordAccessed(
        service=settings.service_name,
        action=command,
        query=json.dumps(arguments, default=str, sort_keys=True),
        who=Accessor(
            subject=f"cli:{getpass.getuser()}", agency="local", jurisdiction=jurisdiction, roles=()
        ),
        records=tuple(records),
    )
    store = EventStore(
        subject_root=settings.subject_root,
        notify_channel=notify_channel(settings.db_schema),
        signer=event_signer(settings),
    )
    async with conn.transaction():
        await _append(conn, store, settings.service_name, read, jurisdiction, None)


async def _append(
    conn: asyncpg.Connection,
    store: StreamStore,
    service: str,
    payload: AccessEvent,
    jurisdiction: str,
    correlation_id: UUID | None,
) -> None:
    event_id = uuid6.uuid7()
    # One stream per access: accesses never contend with each other or with the records' own
    # streams.
    origin = command_loop.Origin(system_actor(service), jurisdiction, correlation_id or event_id)
    await command_loop.append(
        conn, store, _access_stream(event_id), 0, [payload], origin, event_ids=[event_id]
    )


def _access_stream(event_id: UUID) -> str:
    return f"access-{event_id}"


def _access_event(
    service: str, payload: AccessEvent, jurisdiction: str, correlation_id: UUID | None
) -> EventEnvelope:
    """The envelope `_append` makes, as the first and only event of its own stream."""
    event_id = uuid6.uuid7()
    return new_event(
        payload,
        stream_id=_access_stream(event_id),
        stream_version=1,
        jurisdiction=jurisdiction,
        actor=system_actor(service),
        correlation_id=correlation_id or event_id,
        causation_id=None,
        event_id=event_id,
    )


class AccessTrail:
    """The ASGI middleware described in the module's docstring."""

    def __init__(
        self,
        app: ASGIApp,
        recorder_of: Callable[[], AccessRecorder],
        retry_after_seconds: int,
    ) -> None:
        self.app = app
        self.recorder_of = recorder_of
        self.retry_after = str(retry_after_seconds).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []
        verdict: str | None = None  # "read", "denied", "withheld"

        async def recording_send(message: Message) -> None:
            nonlocal verdict
            if message["type"] == "http.response.start":
                verdict = _verdict(scope, message["status"])
                if verdict is None:
                    await send(message)
                elif verdict == "read":
                    if await self._record_read(scope, message["status"]):
                        await send(message)
                    else:
                        verdict = "withheld"
                        await _send_unavailable(send, self.retry_after)
                else:
                    held.append(message)
                return
            if verdict == "withheld":
                return  # the records stay here: their read could not be recorded
            if verdict != "denied":
                await send(message)
                return
            held.append(message)
            if not message.get("more_body", False):
                await self._record_denial(scope, held)
                for part in held:
                    await send(part)
                held.clear()

        await self.app(scope, receive, recording_send)

    async def _record_read(self, scope: Scope, status: int) -> bool:
        try:
            await self._record(scope, RecordAccessed, status=status)
        except Exception:
            log.exception("could not record a read; the answer is withheld", action=_action(scope))
            return False
        return True

    async def _record_denial(self, scope: Scope, held: list[Message]) -> None:
        body = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
        try:
            principal: Principal = scope["state"][_PRINCIPAL]
            recorder = self.recorder_of()
            refusal = AccessDenied(
                service=recorder.service,
                action=_action(scope),
                query=_query(scope),
                who=accessor(principal),
                records=_records(scope),
                status=held[0]["status"],
                reason=_detail_of(body),
            )
            await recorder.refusals.refused(
                refusal,
                jurisdiction=principal.jurisdiction,
                correlation_id=scope["state"].get("correlation_id"),
            )
        except Exception:
            # Refusing stays right even when the refusal cannot be written down.
            log.exception("could not record a refusal", action=_action(scope))

    async def _record(self, scope: Scope, kind: type[AccessEvent], **outcome: Any) -> None:
        principal: Principal = scope["state"][_PRINCIPAL]
        recorder = self.recorder_of()
        payload = kind(
            service=recorder.service,
            action=_action(scope),
            query=_query(scope),
            who=accessor(principal),
            records=_records(scope),
            **outcome,
        )
        await recorder.record(
            payload,
            jurisdiction=principal.jurisdiction,
            correlation_id=scope["state"].get("correlation_id"),
        )


def _marker(scope: Scope) -> dict[str, Any] | None:
    route = scope.get("route")
    extra = getattr(route, "openapi_extra", None) or {}
    marker: dict[str, Any] | None = extra.get(RECORD_ROUTE)
    return marker


def _verdict(scope: Scope, status: int) -> str | None:
    if _PRINCIPAL not in scope.get("state", {}):
        return None  # no verified token: nobody to name
    marker = _marker(scope)
    if status in (403, 429) or (status == 404 and marker is not None):
        return "denied"
    if marker is not None and scope["method"] == "GET" and 200 <= status < 300:
        return "read"
    return None


def _action(scope: Scope) -> str:
    route = scope.get("route")
    return f"{scope['method']} {getattr(route, 'path', scope['path'])}"


def _query(scope: Scope) -> str:
    raw: bytes = scope.get("query_string", b"")
    return raw.decode(errors="replace")[:2000]


def _records(scope: Scope) -> tuple[RecordRef, ...]:
    marker = _marker(scope)
    refs: list[RecordRef] = []
    if marker is not None:
        named = scope.get("path_params", {}).get(marker["id_param"]) if marker["id_param"] else None
        refs.append(RecordRef(kind=marker["kind"], id=str(named) if named is not None else None))
    refs.extend(scope["state"].get(_SHOWN, []))
    return tuple(dict.fromkeys(refs))


def _detail_of(body: bytes) -> str:
    try:
        detail = json.loads(body).get("detail", "")
    except (ValueError, AttributeError):
        return ""
    return str(detail)[:2000]


async def _send_unavailable(send: Send, retry_after: bytes) -> None:
    body = json.dumps(
        {
            "type": TYPE_BASE + "access-not-recorded",
            "title": "Service unavailable",
            "status": 503,
            "detail": "Every read of a participant's record is recorded first, and the record "
            "could not be made just now; nothing was shown. Try again shortly.",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", retry_after),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

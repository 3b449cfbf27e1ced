"""A partner's webhook endpoint for tests: a tiny app on a free port that records every call,
answers 500 when told to, and checks Standard Webhooks signatures by hand (not with the library
notify signs with, so a mistake in how notify uses it would show)."""

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.conftest import wait_for


@dataclass(frozen=True)
class Call:
    headers: dict[str, str]
    body: bytes
    answered: int

    @property
    def payload(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


def signature_is_valid(secret: str, call: Call, tolerance_seconds: int = 300) -> bool:
    """The specification's check: HMAC-SHA256 over `id.timestamp.body`, keyed by the base64
    secret after `whsec_`, compared in constant time against each `v1,` signature."""
    msg_id = call.headers["webhook-id"]
    timestamp = call.headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance_seconds:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + call.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        version == "v1" and hmac.compare_digest(expected, sig)
        for version, _, sig in (
            part.partition(",") for part in call.headers["webhook-signature"].split()
        )
    )


@dataclass
class WebhookReceiver:
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    # How many calls still get a 500 before the receiver answers 204; -1: always 500.
    failures_left: int = 0

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        status = 204
        if self.failures_left != 0:
            status = 500
            self.failures_left -= 1 if self.failures_left > 0 else 0
        self.calls.append(Call({k.lower(): v for k, v in request.headers.items()}, body, status))
        return Response(status_code=status)

    def calls_about(self, trigger: str) -> list[Call]:
        return [c for c in self.calls if c.payload["data"]["trigger"] == trigger]

    async def wait_for_calls(self, count: int, what: str, timeout: float = 30) -> list[Call]:
        async def enough() -> list[Call] | None:
            return self.calls if len(self.calls) >= count else None

        found: list[Call] = await wait_for(enough, timeout=timeout, what=what)
        return found


@asynccontextmanager
async def webhook_receiver(failures: int = 0) -> AsyncIterator[WebhookReceiver]:
    receiver = WebhookReceiver(failures_left=failures)
    app = Starlette(routes=[Route("/hook", receiver.handle, methods=["POST"])])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="off")
    )
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        return server.started or task.done()

    await wait_for(started, timeout=30, what="the webhook receiver to start")
    port = server.servers[0].sockets[0].getsockname()[1]
    receiver.url = f"http://127.0.0.1:{port}/hook"
    try:
        yield receiver
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=30)

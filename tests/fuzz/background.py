"""The four services on uvicorn in a thread of their own, with an event loop of their own.

Schemathesis calls an API synchronously (with `requests`) from the test's thread. The in-process
services of `tests/conftest.py` run on pytest's event loop, which does not turn while a
synchronous test waits for an answer; here they keep serving because their loop runs elsewhere.
"""

import asyncio
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from uuid import uuid4

from fastapi import FastAPI

from audit.bootstrap import create_app as audit_app
from audit.settings import AuditSettings
from casework.bootstrap import create_app as casework_app
from casework.settings import CaseworkSettings
from intake.bootstrap import create_app as intake_app
from intake.settings import IntakeSettings
from notify.bootstrap import create_app as notify_app
from notify.settings import NotifySettings
from tests.conftest import RunningService, serve
from tests.isolation import Servers, ServiceFields
from tests.profiles import SHIPPED_PROFILES

T = TypeVar("T")


class LoopThread:
    """An event loop turning in a daemon thread; `run` hands it a coroutine and waits."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._turn, name="fuzzed-services", daemon=True)

    def _turn(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def start(self) -> None:
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], *, timeout: float) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=30)
        self.loop.close()


@dataclass(frozen=True)
class Names:
    """This module's own database, subjects, stream and task queue on the session's servers
    (as the `isolation` fixture makes them for one test; the fuzz shares one system across the
    tests of a module, so it makes its own)."""

    database_url: str
    tag: str
    key_path: Path

    def settings(self, servers: Servers) -> ServiceFields:
        return {
            "database_url": self.database_url,
            "nats_url": servers.nats.url,
            "nats_credentials_dir": servers.nats.credentials_dir,
            "subject_root": f"t{self.tag}",
            "stream_name": f"T{self.tag}",
            "stream_duplicate_window_seconds": 120,
            "temporal_address": servers.temporal.address,
            "temporal_task_queue": f"casework-{self.tag}",
            "auth_local_key_path": self.key_path,
            "profiles_dir": SHIPPED_PROFILES,
            "http_port": 0,
        }


async def make_names(servers: Servers, directory: Path) -> Names:
    tag = uuid4().hex[:12]
    database_url = await servers.postgres.create_database(f"t_{tag}")
    return Names(database_url, tag, directory / "local-issuer.pem")


def openapi_document(service: str) -> dict[str, Any]:
    """The service's OpenAPI document, as its app makes it (no server needed)."""
    made = factories({"profiles_dir": SHIPPED_PROFILES}, smtp_port=2525)[service]()
    return made.openapi()


def factories(common: ServiceFields, smtp_port: int) -> dict[str, Callable[[], FastAPI]]:
    # Generated requests come by the thousand from a few callers: a limit this high lets them
    # reach the handlers (the 429 itself is tested in tests/edge/test_flood.py).
    common = {**common, "http_rate_limit": "100000/minute"}

    def notify_settings() -> NotifySettings:
        return NotifySettings(
            **common,
            # The seeded subscription's receiver is on loopback, as in the embedded default.
            webhook_allow_loopback=True,
            smtp_port=smtp_port,
            delivery_backoff_base_seconds=0.05,
            delivery_backoff_max_seconds=0.2,
            delivery_max_attempts=2,
            delivery_poll_seconds=0.2,
        )

    return {
        "intake": lambda: intake_app(IntakeSettings(**common)),
        "casework": lambda: casework_app(CaseworkSettings(**common)),
        "notify": lambda: notify_app(notify_settings()),
        # Checkpoints every few entries, so the proof endpoints have something to prove.
        "audit": lambda: audit_app(AuditSettings(**common, checkpoint_every_entries=4)),
    }


async def start_all(made: dict[str, Callable[[], FastAPI]]) -> dict[str, RunningService]:
    started: dict[str, RunningService] = {}
    try:
        for name, factory in made.items():
            started[name] = await serve(name, factory())
    except BaseException:
        await stop_all(started)
        raise
    return started


async def stop_all(started: dict[str, RunningService]) -> None:
    for service in reversed(list(started.values())):
        await service.stop()

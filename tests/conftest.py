"""Fixtures for cross-service tests: the four services running in this process, each served by
uvicorn on a free port against the session's real servers and the test's own names."""

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from audit.bootstrap import create_app as audit_app
from audit.settings import AuditSettings
from casework.bootstrap import create_app as casework_app
from casework.settings import CaseworkSettings
from intake.bootstrap import create_app as intake_app
from intake.settings import IntakeSettings
from notify.bootstrap import create_app as notify_app
from notify.settings import NotifySettings
from offramp_devstack import db_logins, free_port
from offramp_devstack.mailsink import MailSink, start_mail_sink
from offramp_devstack.waiting import wait_for
from outcomes.bootstrap import create_app as outcomes_app
from outcomes.settings import OutcomesSettings
from servicekit.auth import LocalIssuer
from servicekit.runtime import ServiceRuntime

__all__ = ["System", "wait_for"]


@dataclass
class RunningService:
    name: str
    app: FastAPI
    server: uvicorn.Server
    task: "asyncio.Task[None]"
    url: str

    @property
    def runtime(self) -> ServiceRuntime:
        runtime: ServiceRuntime = self.app.state.runtime
        return runtime

    async def stop(self) -> None:
        self.server.should_exit = True
        await asyncio.wait_for(self.task, timeout=30)


async def serve(name: str, app: FastAPI) -> RunningService:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    await wait_for(lambda: _started(server, task), timeout=60, what=f"{name} to start")
    if task.done():
        task.result()
        raise RuntimeError(f"{name} stopped during start-up")
    port = server.servers[0].sockets[0].getsockname()[1]
    return RunningService(name, app, server, task, f"http://127.0.0.1:{port}")


async def _started(server: uvicorn.Server, task: "asyncio.Task[None]") -> bool:
    return server.started or task.done()


@dataclass
class System:
    services: dict[str, RunningService]
    issuer: LocalIssuer
    jurisdiction: str
    # How each service is made, so that a test can stop one and start a new instance of it.
    factories: dict[str, Callable[[], FastAPI]] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return self.services[service].url

    def token(self, *, sub: str, role: str, agency: str, jurisdiction: str | None = None) -> str:
        return self.issuer.issue(
            subject=sub, roles=[role], agency=agency, jurisdiction=jurisdiction or self.jurisdiction
        )

    def client(self, service: str, token: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.url(service), headers=headers, timeout=30)


@pytest.fixture(scope="session")
def mail_sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailSink]:
    """The SMTP mail sink `make up` runs, here on a free port; tests tell their mail apart by
    the addresses they register."""
    sink = start_mail_sink(Path(tmp_path_factory.mktemp("mail")), free_port())
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def notify_overrides() -> dict[str, Any]:
    """Notify settings a test module changes (e.g. `delivery_max_attempts`)."""
    return {}


@pytest.fixture
async def system(
    servers: Any,
    isolation: Any,
    mail_sink: MailSink,
    notify_overrides: dict[str, Any],
    request: pytest.FixtureRequest,
) -> AsyncIterator[System]:
    """All five services, or only those a `@pytest.mark.services(...)` marker names."""
    common = isolation.settings(servers)
    # Each service with its own database login, which owns nothing, and its schema's owner for
    # migrations: the system tests run with the privileges production gives (ADR 0018).
    logins = await db_logins.provision(isolation.database_url)

    def own(name: str, settings: dict[str, Any]) -> dict[str, Any]:
        login = logins[name]
        return {**settings, "database_url": login.login_url, "database_owner_url": login.owner_url}

    issuer = LocalIssuer(isolation.key_path, issuer="offramp-local", audience="offramp")
    notify_settings = {
        **common,
        "smtp_port": mail_sink.port,
        # Retries in fractions of a second, so back-off and parking are seen within a test.
        "delivery_backoff_base_seconds": 0.05,
        "delivery_backoff_max_seconds": 0.2,
        "delivery_max_attempts": 4,
        "delivery_poll_seconds": 0.2,
        # The tests' partner systems are receivers on loopback (tests/webhooks.py).
        "webhook_allow_loopback": True,
        **notify_overrides,
    }
    factories: dict[str, Callable[[], FastAPI]] = {
        "intake": lambda: intake_app(IntakeSettings(**own("intake", common))),
        "casework": lambda: casework_app(CaseworkSettings(**own("casework", common))),
        "notify": lambda: notify_app(NotifySettings(**own("notify", notify_settings))),
        "audit": lambda: audit_app(AuditSettings(**own("audit", common))),
        "outcomes": lambda: outcomes_app(OutcomesSettings(**own("outcomes", common))),
    }
    marker = request.node.get_closest_marker("services")
    wanted = set(marker.args) if marker else set(factories)
    started: dict[str, RunningService] = {}
    try:
        for name, factory in factories.items():
            if name not in wanted:
                continue
            started[name] = await serve(name, factory())
        yield System(started, issuer, jurisdiction="pontiac", factories=factories)
    finally:
        for service in reversed(list(started.values())):
            await service.stop()

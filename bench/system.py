"""Offramp's services as their own processes on one benchmark's servers, configured alike: one
database (each service in its own schema), one stream and subject root, the shipped site
profiles with a Pontiac that never fills (so every referral takes the same path), and a local
token issuer."""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import asyncpg
import httpx

from bench.harness import Servers, Service, service_process
from offramp_devstack import free_port
from servicekit.auth import LocalIssuer
from tests.profiles import customised_profiles

SUBJECT_ROOT = "bench"
STREAM = "BENCH"
JURISDICTION = "pontiac"
OFFICER_AGENCY = "pontiac-pd"
CM_AGENCY = "pontiac-case-management"


@dataclass(frozen=True)
class Stack:
    servers: Servers
    dsn: str
    issuer: LocalIssuer
    env: dict[str, str]

    def token(self, sub: str, role: str, agency: str) -> str:
        return self.issuer.issue(
            subject=sub, roles=[role], agency=agency, jurisdiction=JURISDICTION
        )

    async def connect(self, schema: str) -> asyncpg.Connection:
        """A plain session on one service's schema, to watch what it stored."""
        return await asyncpg.connect(self.dsn, server_settings={"search_path": schema})


async def stack(running: Servers, database: str) -> Stack:
    dsn = await running.postgres.create_database(database)
    profiles = customised_profiles(
        running.home / "profiles", {"pontiac.toml": {"capacity = 40": "capacity = 100000000"}}
    )
    key = running.home / "issuer.pem"
    env = {
        "OFFRAMP_DATABASE_URL": dsn,
        "OFFRAMP_NATS_URL": running.nats.url,
        "OFFRAMP_NATS_CREDENTIALS_DIR": str(running.nats.credentials_dir),
        "OFFRAMP_PROFILES_DIR": str(profiles),
        "OFFRAMP_AUTH_LOCAL_KEY_PATH": str(key),
        "OFFRAMP_SUBJECT_ROOT": SUBJECT_ROOT,
        "OFFRAMP_STREAM_NAME": STREAM,
        # A benchmark is one caller calling one route as fast as it can: the limiter still
        # counts every request (its cost is measured), but never refuses one.
        "OFFRAMP_HTTP_RATE_LIMIT": "100000000/minute",
    }
    if running.temporal is not None:
        env["OFFRAMP_TEMPORAL_ADDRESS"] = running.temporal.address
        env["OFFRAMP_TEMPORAL_TASK_QUEUE"] = "casework-bench"
    issuer = LocalIssuer(key, issuer="offramp-local", audience="offramp")
    return Stack(running, dsn, issuer, env)


@asynccontextmanager
async def started(
    stack: Stack, *names: str, env: dict[str, str] | None = None
) -> AsyncIterator[dict[str, Service]]:
    """`offramp-<name> serve` for each name, one after the other (each migrates its schema and
    declares the stream on start), all stopped on the way out."""
    async with AsyncExitStack() as processes:
        services: dict[str, Service] = {}
        for name in names:
            services[name] = await processes.enter_async_context(
                service_process(
                    f"offramp-{name}",
                    {**stack.env, **(env or {})},
                    free_port(),
                    stack.servers.home / f"{name}.log",
                )
            )
        yield services


async def register_case_managers(stack: Stack, casework: Service, count: int) -> None:
    """Puts cm-0..cm-<count-1> on the Pontiac case-management roster, as a supervisor does, so
    that new cases are assigned and balanced as in production."""
    supervisor = stack.token("supervisor-1", "supervisor", CM_AGENCY)
    async with httpx.AsyncClient(
        base_url=casework.url, headers={"Authorization": f"Bearer {supervisor}"}
    ) as client:
        for n in range(count):
            response = await client.put(f"/case-managers/cm-{n}")
            if response.status_code != 204:
                raise RuntimeError(f"case manager not registered: {response.text}")

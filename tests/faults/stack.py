"""The whole system for the fault-injection suite, on servers of its own: PostgreSQL, NATS and
Temporal started for this suite alone (it kills them, so it must never touch the session's),
and the four services each as its own OS process that can be SIGKILLed, paused and restarted
on its port."""

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from offramp_devstack import (
    Nats,
    Postgres,
    ServiceProcess,
    Temporal,
    db_logins,
    free_ports,
    start_nats,
    start_postgres,
    start_temporal,
)
from servicekit.auth import LocalIssuer
from tests.profiles import customised_profiles

SERVICES = ("intake", "casework", "notify", "audit")
SUBJECT_ROOT = "faults"
STREAM = "FAULTS"
JURISDICTION = "pontiac"
CASE_AGENCY = "pontiac-case-management"
REPO = Path(__file__).resolve().parents[2]

# Short on purpose, so that a pause past it fits in a test; the ledger writer has its own.
CONSUMER_ACK_WAIT_SECONDS = 2.0
RETRY_AFTER_SECONDS = 1


@dataclass
class Stack:
    home: Path
    postgres: Postgres
    nats: Nats
    temporal: Temporal
    database_url: str
    issuer: LocalIssuer
    services: dict[str, ServiceProcess] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return self.services[service].url

    @property
    def key_path(self) -> Path:
        """The local issuer's key; the services' event keys are beside it (tests.bus)."""
        return self.home / "local-issuer.pem"

    def token(self, sub: str, role: str, agency: str) -> str:
        return self.issuer.issue(
            subject=sub, roles=[role], agency=agency, jurisdiction=JURISDICTION
        )

    def client(self, service: str, token: str, timeout: float = 10) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.url(service),
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )

    async def connect(self) -> asyncpg.Connection:
        """A superuser's session on the system's database, for reading what services stored."""
        return await asyncpg.connect(self.database_url)

    @property
    def nats_servers(self) -> list[str]:
        return self.nats.servers

    def nats_connect_options(self) -> dict[str, str]:
        return self.nats.connect_options()

    # Faults --------------------------------------------------------------------------------

    async def restart_postgres(self) -> None:
        """Start the killed server again on its data directory and port: crash recovery."""
        self.postgres = await asyncio.to_thread(
            start_postgres, self.home / "postgres", self.postgres.port, self.home / "postgres.log"
        )

    async def restart_nats(self) -> None:
        """Start the killed server again on its store directory and ports."""
        self.nats = await asyncio.to_thread(
            start_nats,
            self.home / "nats",
            self.nats.port,
            self.nats.monitor_port,
            self.home / "nats.log",
            subject_root=SUBJECT_ROOT,
            stream=STREAM,
        )

    async def all_ready(self, within: float = 90) -> None:
        """Every service answers /readyz 200: its database, NATS and background work are up."""
        await asyncio.gather(*(s.wait_ready(within) for s in self.services.values()))

    async def stop(self) -> None:
        await asyncio.gather(*(s.stop() for s in self.services.values()))
        for server in (self.temporal.server, self.nats.server, self.postgres.server):
            await asyncio.to_thread(server.stop)


def service_settings(
    home: Path,
    *,
    database_url: str,
    nats_url: str,
    nats_credentials_dir: Path,
    temporal_address: str,
    smtp_port: int,
) -> dict[str, str]:
    """Every service's settings under faults, with a site that never fills (every eligible
    referral is admitted and opens a case); `home` holds the issuer key and the profiles."""
    profiles = customised_profiles(
        home / "profiles", {"pontiac.toml": {"capacity = 40": "capacity = 1000000"}}
    )
    return {
        "OFFRAMP_DATABASE_URL": database_url,
        "OFFRAMP_NATS_URL": nats_url,
        "OFFRAMP_NATS_CREDENTIALS_DIR": str(nats_credentials_dir),
        "OFFRAMP_TEMPORAL_ADDRESS": temporal_address,
        "OFFRAMP_TEMPORAL_TASK_QUEUE": "casework-faults",
        "OFFRAMP_SUBJECT_ROOT": SUBJECT_ROOT,
        "OFFRAMP_STREAM_NAME": STREAM,
        "OFFRAMP_AUTH_LOCAL_KEY_PATH": str(home / "local-issuer.pem"),
        "OFFRAMP_PROFILES_DIR": str(profiles),
        "OFFRAMP_LOG_JSON": "false",
        "OFFRAMP_HTTP_RETRY_AFTER_SECONDS": str(RETRY_AFTER_SECONDS),
        "OFFRAMP_CONSUMER_ACK_WAIT_SECONDS": str(CONSUMER_ACK_WAIT_SECONDS),
        # The ledger writer: a killed writer's batch comes back soon, its lease is taken at once.
        "OFFRAMP_LEDGER_ACK_WAIT_SECONDS": "3",
        "OFFRAMP_LEDGER_LEASE_RETRY_SECONDS": "0.2",
        # Checkpoints are signed (and announced as events) while the faults happen.
        "OFFRAMP_CHECKPOINT_EVERY_ENTRIES": "100",
        # Nobody registers an e-mail address here; notify needs somewhere to point anyway.
        "OFFRAMP_SMTP_PORT": str(smtp_port),
        # The load is a few callers pacing requests faster than any person: the rate limit
        # (tests/edge/test_flood.py) must not turn its case commands into 429s.
        "OFFRAMP_HTTP_RATE_LIMIT": "1000000/minute",
    }


async def start_stack(home: Path) -> Stack:
    """Servers first (side by side), then the four services (side by side), each ready, all
    under `home` (an empty directory)."""
    pg_port, nats_port, monitor_port, temporal_port, ui_port, smtp_port, *ports = free_ports(10)
    postgres, bus, temporal = await asyncio.gather(
        asyncio.to_thread(start_postgres, home / "postgres", pg_port, home / "postgres.log"),
        asyncio.to_thread(
            start_nats,
            home / "nats",
            nats_port,
            monitor_port,
            home / "nats.log",
            subject_root=SUBJECT_ROOT,
            stream=STREAM,
        ),
        asyncio.to_thread(
            start_temporal,
            home / "temporal.db",
            temporal_port,
            ui_port,
            home / "temporal.log",
            headless=True,
        ),
    )
    database_url = await postgres.create_database("offramp")
    issuer = LocalIssuer(home / "local-issuer.pem", issuer="offramp-local", audience="offramp")
    # Each service with its own login, which owns nothing (ADR 0018): faults are met with the
    # privileges production gives.
    logins = await db_logins.provision(database_url)
    stack = Stack(home, postgres, bus, temporal, database_url, issuer)
    env = service_settings(
        home,
        database_url=database_url,
        nats_url=bus.url,
        nats_credentials_dir=bus.credentials_dir,
        temporal_address=temporal.address,
        smtp_port=smtp_port,
    )
    for name, port in zip(SERVICES, ports, strict=False):
        stack.services[name] = ServiceProcess(
            name,
            port=port,
            env=env | logins[name].environment(),
            log_path=home / f"{name}.log",
            cwd=REPO,
        )
    try:
        await asyncio.gather(*(s.start() for s in stack.services.values()))
    except BaseException:
        await stack.stop()
        raise
    return stack

"""The system scaled out on this machine: a three-node NATS JetStream cluster on loopback (routes
between the nodes, streams with three replicas, `sync_interval: always`), two replicas of every
service as OS processes against one PostgreSQL and one Temporal, and clients that send their
requests to the replicas in turn, as a load balancer would."""

import asyncio
import itertools
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from offramp_devstack import (
    NatsCluster,
    Postgres,
    ServiceProcess,
    Temporal,
    db_logins,
    free_ports,
    start_nats_cluster,
    start_postgres,
    start_temporal,
)
from servicekit.auth import LocalIssuer
from tests.faults.stack import JURISDICTION, REPO, SERVICES, service_settings

REPLICAS = 2
STREAM_REPLICAS = 3
# Eight service processes share one PostgreSQL (max_connections 100): each pool stays small.
DB_POOL_MAX = 6


class RoundRobin(httpx.AsyncBaseTransport):
    """Sends each request to the next replica, whatever the client's base URL says, and counts
    the answers each replica gave."""

    def __init__(self, replicas: list[ServiceProcess], answered: Counter[int]) -> None:
        self._urls = itertools.cycle([httpx.URL(r.url) for r in replicas])
        self._transport = httpx.AsyncHTTPTransport()
        self._answered = answered

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        target = next(self._urls)
        request.url = request.url.copy_with(host=target.host, port=target.port)
        response = await self._transport.handle_async_request(request)
        self._answered[target.port or 0] += 1
        return response

    async def aclose(self) -> None:
        await self._transport.aclose()


@dataclass
class ScaleStack:
    home: Path
    postgres: Postgres
    nats: NatsCluster
    temporal: Temporal
    database_url: str
    issuer: LocalIssuer
    replicas: dict[str, list[ServiceProcess]] = field(default_factory=dict)
    # Answers given by each replica (by its port), over every client of the stack.
    answered: Counter[int] = field(default_factory=Counter)

    @property
    def key_path(self) -> Path:
        """The local issuer's key; the services' event keys are beside it (tests.bus)."""
        return self.home / "local-issuer.pem"

    def token(self, sub: str, role: str, agency: str) -> str:
        return self.issuer.issue(
            subject=sub, roles=[role], agency=agency, jurisdiction=JURISDICTION
        )

    def client(self, service: str, token: str, timeout: float = 10) -> httpx.AsyncClient:
        replicas = self.replicas[service]
        return httpx.AsyncClient(
            base_url=replicas[0].url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
            transport=RoundRobin(replicas, self.answered),
        )

    async def connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.database_url)

    @property
    def nats_servers(self) -> list[str]:
        return self.nats.servers

    def nats_connect_options(self) -> dict[str, str]:
        return self.nats.connect_options()

    def processes(self) -> list[ServiceProcess]:
        return [p for replicas in self.replicas.values() for p in replicas]

    async def all_ready(self, within: float = 90) -> None:
        await asyncio.gather(*(p.wait_ready(within) for p in self.processes()))

    async def stop(self) -> None:
        await asyncio.gather(*(p.stop() for p in self.processes()))
        await asyncio.to_thread(self.nats.stop)
        for server in (self.temporal.server, self.postgres.server):
            await asyncio.to_thread(server.stop)


async def start_scale_stack(home: Path) -> ScaleStack:
    """Servers side by side, then every replica side by side, each ready."""
    pg_port, temporal_port, ui_port, smtp_port, *ports = free_ports(4 + REPLICAS * len(SERVICES))
    postgres, cluster, temporal = await asyncio.gather(
        asyncio.to_thread(start_postgres, home / "postgres", pg_port, home / "postgres.log"),
        start_nats_cluster(home / "nats", STREAM_REPLICAS, sync_always=True),
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
    stack = ScaleStack(home, postgres, cluster, temporal, database_url, issuer)
    env = service_settings(
        home,
        database_url=database_url,
        nats_url=cluster.url,
        nats_credentials_dir=cluster.credentials_dir,
        temporal_address=temporal.address,
        smtp_port=smtp_port,
    ) | {"OFFRAMP_STREAM_REPLICAS": str(STREAM_REPLICAS), "OFFRAMP_DB_POOL_MAX": str(DB_POOL_MAX)}
    free = iter(ports)
    for name in SERVICES:
        stack.replicas[name] = [
            ServiceProcess(
                name,
                port=next(free),
                env=env | logins[name].environment(),
                log_path=home / f"{name}-{n}.log",
                cwd=REPO,
            )
            for n in range(REPLICAS)
        ]
    try:
        # All at once, as a rollout starts them: replicas migrating one schema take turns on
        # its advisory lock.
        await asyncio.gather(*(p.start() for p in stack.processes()))
    except BaseException:
        await stack.stop()
        raise
    return stack

"""What a running service holds: its database pool, its NATS connection, its token verifier and
its supervised background tasks (relay, consumers, workers)."""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from servicekit.access import AccessRecorder
from servicekit.auth import LocalIssuer, TokenVerifier
from servicekit.database import create_pool
from servicekit.event_keys import Keyring, event_signer, keyring_dir
from servicekit.eventstore import EventStore
from servicekit.inbox import ConsumerPolicy, Handler, InboxConsumer
from servicekit.jetstream import connect_nats, ensure_stream, nats_identity
from servicekit.log import get_logger
from servicekit.migrations import Migration, migrate
from servicekit.outbox import OutboxRelay, notify_channel
from servicekit.provenance import EventSigner
from servicekit.settings import ServiceSettings

log = get_logger(__name__)

# How long each step of stopping may take (background loops, the NATS drain, the pool): a
# stopping service is done well inside the 30 s most supervisors wait before SIGKILL.
STOP_STEP_SECONDS = 8.0


def build_verifier(settings: ServiceSettings) -> TokenVerifier:
    if settings.auth_jwks_url:
        return TokenVerifier(
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
            jwks_url=settings.auth_jwks_url,
        )
    if settings.auth_local_key_path is None:
        raise ValueError(
            "no token verification configured: set OFFRAMP_AUTH_JWKS_URL (production) or "
            "OFFRAMP_AUTH_LOCAL_KEY_PATH (the embedded default's local issuer key)"
        )
    public_key: Ed25519PublicKey = LocalIssuer(
        settings.auth_local_key_path, issuer=settings.auth_issuer, audience=settings.auth_audience
    ).public_key
    return TokenVerifier(
        issuer=settings.auth_issuer, audience=settings.auth_audience, public_key=public_key
    )


@dataclass
class ServiceRuntime:
    settings: ServiceSettings
    migrations: list[Migration]
    pool: asyncpg.Pool = field(init=False)
    nats: NATS = field(init=False)
    js: JetStreamContext = field(init=False)
    verifier: TokenVerifier = field(init=False)
    store: EventStore = field(init=False)
    signer: EventSigner = field(init=False)
    keyring: Keyring = field(init=False)
    relay: OutboxRelay = field(init=False)
    access: AccessRecorder = field(init=False)
    tasks: dict[str, asyncio.Task[Any]] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)

    async def start(self) -> None:
        s = self.settings
        identity = nats_identity(s)
        self.verifier = build_verifier(s)
        self.signer = event_signer(s)
        self.keyring = Keyring(keyring_dir(s))
        self.pool = await create_pool(s.database_url, s.db_schema, max_size=s.db_pool_max)
        async with self.pool.acquire() as conn:
            await migrate(conn, s.db_schema, self.migrations)
        self.nats = await connect_nats(s.nats_url, s.service_name, identity)
        self.js = self.nats.jetstream()
        await ensure_stream(self.js, s)
        self.store = EventStore(
            subject_root=s.subject_root,
            notify_channel=notify_channel(s.db_schema),
            signer=self.signer,
        )
        self.access = AccessRecorder(s.service_name, self.pool, self.store)
        self.relay = OutboxRelay(
            dsn=s.database_url, schema=s.db_schema, js=self.js, stream=s.stream_name
        )
        self.spawn("outbox-relay", self.relay.run)

    def consumer(self, name: str, subjects: Sequence[str], handler: Handler) -> InboxConsumer:
        """A durable consumer of the service's stream, with the policy its settings give."""
        s = self.settings
        return InboxConsumer(
            pool=self.pool,
            js=self.js,
            stream=s.stream_name,
            name=name,
            subjects=subjects,
            handler=handler,
            policy=ConsumerPolicy(
                max_attempts=s.consumer_max_attempts, ack_wait_seconds=s.consumer_ack_wait_seconds
            ),
            keyring=self.keyring,
        )

    def spawn(self, name: str, run: Callable[[], Awaitable[Any]]) -> None:
        """Run a background loop for the life of the service; a crash is logged, not swallowed."""

        async def supervised() -> None:
            try:
                await run()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background task crashed", task=name)
                raise

        self.tasks[name] = asyncio.create_task(supervised(), name=name)

    async def readiness(self) -> dict[str, str]:
        """Each dependency and background task: 'ok' or what is wrong."""
        checks: dict[str, str] = {}
        try:
            async with self.pool.acquire() as conn:
                await conn.fetchval("SELECT 1")
            checks["postgres"] = "ok"
        except Exception as error:
            checks["postgres"] = f"unavailable: {error!r}"
        checks["nats"] = "ok" if self.nats.is_connected else "disconnected"
        for name, task in self.tasks.items():
            checks[name] = "ok" if not task.done() else "stopped"
        return checks

    async def stop(self) -> None:
        """Each step is bounded: a loop that does not end when cancelled, a drain waiting on the
        server, or a connection held by a stuck query must not keep the process from stopping.
        What did not stop in time is named in the log."""
        for task in self.tasks.values():
            task.cancel()
        if self.tasks:
            _, stuck = await asyncio.wait(self.tasks.values(), timeout=STOP_STEP_SECONDS)
            for task in stuck:
                log.warning("background task did not stop in time", task=task.get_name())
        self.tasks.clear()
        if getattr(self, "nats", None) is not None and not self.nats.is_closed:
            try:
                await asyncio.wait_for(self.nats.drain(), timeout=STOP_STEP_SECONDS)
            except TimeoutError:
                log.warning("NATS connection did not drain in time; closing it")
                await self.nats.close()
        if getattr(self, "pool", None) is not None:
            try:
                await asyncio.wait_for(self.pool.close(), timeout=STOP_STEP_SECONDS)
            except TimeoutError:
                log.warning("database connections still busy; terminating them")
                self.pool.terminate()

"""What a running service holds: its database pool, its NATS connection, its token verifier and
its supervised background tasks (relay, consumers, workers)."""

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, TypeVar

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from offramp_contracts.profile import AgencyKind
from servicekit.access import AccessRecorder
from servicekit.answer_book import AnswerBook
from servicekit.auth import LocalIssuer, Principal, TokenVerifier
from servicekit.database import create_pool
from servicekit.dead_letters import ReplayRequests
from servicekit.event_keys import Keyring, event_signer, keyring_dir
from servicekit.eventstore import EventStore
from servicekit.inbox import ConsumerPolicy, Handler, InboxConsumer
from servicekit.jetstream import connect_nats, ensure_stream, nats_identity
from servicekit.log import get_logger
from servicekit.metrics import ServiceMetrics
from servicekit.migrations import Migration
from servicekit.operator_cli import redacted
from servicekit.outbox import OutboxRelay, notify_channel
from servicekit.patience import once_reachable
from servicekit.profiles import ProfileBook, load_profiles
from servicekit.provenance import EventSigner
from servicekit.ratelimit import RateLimiter
from servicekit.schema import prepare_schema
from servicekit.settings import ServiceSettings
from servicekit.tracing import configure_tracing, shutdown_tracing

log = get_logger(__name__)

C = TypeVar("C")

# How long each step of stopping may take (background loops, the NATS drain, the pool): a
# stopping service is done well inside the 30 s most supervisors wait before SIGKILL.
STOP_STEP_SECONDS = 8.0


def build_verifier(settings: ServiceSettings) -> TokenVerifier:
    if settings.auth_jwks_url:
        return TokenVerifier(
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
            jwks_url=settings.auth_jwks_url,
            max_lifetime_seconds=settings.auth_max_token_lifetime_seconds,
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
        issuer=settings.auth_issuer,
        audience=settings.auth_audience,
        public_key=public_key,
        max_lifetime_seconds=settings.auth_max_token_lifetime_seconds,
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
    answers: AnswerBook = field(init=False)
    rate_limiter: RateLimiter = field(init=False)
    tasks: dict[str, asyncio.Task[Any]] = field(default_factory=dict)
    # Read when a gate first asks what kind an agency is (servicekit.http.require_role).
    profiles: ProfileBook | None = None
    # Every inbox consumer this process runs, by durable name: what replays its dead letters.
    consumers: dict[str, InboxConsumer] = field(default_factory=dict)
    metrics: ServiceMetrics = field(init=False)

    container: object | None = None
    """The service's own parts (use cases, consumers), a frozen dataclass its `bootstrap`
    builds once the runtime has started; read it with `container_as`."""

    def provide(self, container: object) -> None:
        if not is_dataclass(container):
            raise TypeError("a service's container is a dataclass of its parts")
        self.container = container

    def container_as(self, kind: type[C]) -> C:
        """The service's container, typed; fails loudly before `bootstrap` provided it."""
        if not isinstance(self.container, kind):
            raise RuntimeError(f"the service has no {kind.__name__} (not started yet?)")
        return self.container

    @property
    def extras(self) -> Mapping[str, object]:
        """The container's parts by name (`facts_consumer` as `facts-consumer`), read-only: what
        tests written before the container reach for. Code uses `container_as`."""
        container = self.container
        if container is None or not is_dataclass(container):
            return MappingProxyType({})
        return MappingProxyType(
            {f.name.replace("_", "-"): getattr(container, f.name) for f in fields(container)}
        )

    def agency_kind(self, principal: Principal) -> AgencyKind | None:
        """The kind of the principal's agency, as its jurisdiction's profile in force names it."""
        if self.profiles is None:
            self.profiles = load_profiles(self.settings.profiles_dir)
        return self.profiles.agency_kind(
            principal.jurisdiction, principal.agency, datetime.now(UTC).date()
        )

    def __post_init__(self) -> None:
        self.metrics = ServiceMetrics(self.settings.service_name)

    async def start(self) -> None:
        s = self.settings
        configure_tracing(s.service_name)
        identity = nats_identity(s)
        self.verifier = build_verifier(s)
        self.signer = event_signer(s)
        self.keyring = Keyring(keyring_dir(s))
        self.rate_limiter = RateLimiter(s.http_rate_limit)
        # Patient: whatever is not up yet is waited for, with back-off, and named in the log.
        self.pool = await once_reachable(
            "PostgreSQL",
            redacted(s.database_url),
            lambda: create_pool(s.database_url, s.db_schema, max_size=s.db_pool_max),
        )
        await prepare_schema(s, self.migrations)
        # Apart from `pool`: an idempotency claim holds its connection while the request runs.
        self.answers = AnswerBook(
            await create_pool(s.database_url, s.db_schema, max_size=max(2, s.db_pool_max // 2))
        )
        self.nats = await once_reachable(
            "NATS", s.nats_url, lambda: connect_nats(s.nats_url, s.service_name, identity)
        )
        self.js = self.nats.jetstream()
        await once_reachable("JetStream", s.nats_url, lambda: ensure_stream(self.js, s))
        self.store = EventStore(
            subject_root=s.subject_root,
            notify_channel=notify_channel(s.db_schema),
            signer=self.signer,
        )
        self.access = AccessRecorder(
            s.service_name, self.pool, self.store, window_seconds=s.access_refusal_window_seconds
        )
        self.spawn("refusal-tally", self.access.refusals.run)
        self.relay = OutboxRelay(
            dsn=s.database_url, schema=s.db_schema, js=self.js, stream=s.stream_name
        )
        self.spawn("outbox-relay", self.relay.run)
        self.spawn("dead-letter-replays", ReplayRequests(self.pool, self.consumers).run)

    def consumer(self, name: str, subjects: Sequence[str], handler: Handler) -> InboxConsumer:
        """A durable consumer of the service's stream, with the policy its settings give."""
        s = self.settings
        consumer = InboxConsumer(
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
        self.consumers[name] = consumer
        return consumer

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
        if getattr(self, "access", None) is not None:
            # Counts of repeated refusals still open are stored before the pool closes.
            try:
                await asyncio.wait_for(self.access.refusals.flush(), timeout=STOP_STEP_SECONDS)
            except Exception:
                log.exception("could not store the open counts of repeated refusals")
        if getattr(self, "nats", None) is not None and not self.nats.is_closed:
            try:
                await asyncio.wait_for(self.nats.drain(), timeout=STOP_STEP_SECONDS)
            except TimeoutError:
                log.warning("NATS connection did not drain in time; closing it")
                await self.nats.close()
        for pool in (
            getattr(self, "pool", None),
            getattr(getattr(self, "answers", None), "pool", None),
        ):
            if pool is None:
                continue
            try:
                await asyncio.wait_for(pool.close(), timeout=STOP_STEP_SECONDS)
            except TimeoutError:
                log.warning("database connections still busy; terminating them")
                pool.terminate()
        shutdown_tracing()

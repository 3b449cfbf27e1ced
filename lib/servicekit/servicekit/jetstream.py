"""The JetStream stream every service publishes into and consumes from."""

import asyncio
import contextlib
from typing import Any

from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError

from servicekit.log import get_logger
from servicekit.settings import ServiceSettings

log = get_logger(__name__)


def nats_servers(url: str) -> list[str]:
    """`OFFRAMP_NATS_URL` names one server or, comma-separated, several nodes of a cluster."""
    return [server.strip() for server in url.split(",") if server.strip()]


class NatsCredentialsError(RuntimeError):
    """The service has no credentials for the bus, or the bus refused them: it cannot start."""


def nats_identity(settings: ServiceSettings) -> dict[str, Any]:
    """The `nats.connect` options that name the service's user. NATS takes no anonymous
    clients, so a service without credentials stops here, saying which setting to fix."""
    if settings.nats_credentials_path is not None:
        path, option = settings.nats_credentials_path, "user_credentials"
        setting = "OFFRAMP_NATS_CREDENTIALS_PATH"
    elif settings.nats_nkey_seed_path is not None:
        path, option, setting = (
            settings.nats_nkey_seed_path,
            "nkeys_seed",
            "OFFRAMP_NATS_NKEY_SEED_PATH",
        )
    elif settings.nats_credentials_dir is not None:
        path = settings.nats_credentials_dir / f"{settings.service_name}.nk"
        option, setting = "nkeys_seed", "OFFRAMP_NATS_CREDENTIALS_DIR"
    else:
        raise NatsCredentialsError(
            f"no NATS credentials for {settings.service_name}: set OFFRAMP_NATS_NKEY_SEED_PATH "
            "(an NKEY seed file) or OFFRAMP_NATS_CREDENTIALS_PATH (a JWT .creds file); the "
            "embedded default sets OFFRAMP_NATS_CREDENTIALS_DIR"
        )
    if not path.is_file():
        raise NatsCredentialsError(
            f"{settings.service_name}'s NATS credentials {path} (from {setting}) do not exist"
        )
    return {option: str(path)}


async def connect_nats(url: str, name: str, identity: dict[str, Any]) -> NATS:
    """Connected as `identity`, reconnecting forever afterwards: a NATS restart must not take
    the service down with it. Credentials the server refuses at the first connection stop the
    start instead (nats-py would otherwise retry them forever, silently)."""
    client = NATS()
    connected = False
    refused: asyncio.Future[Exception] = asyncio.get_running_loop().create_future()

    async def on_error(error: Exception) -> None:
        if not connected and "authorization violation" in str(error).lower():
            if not refused.done():
                refused.set_result(error)
            return
        log.warning("NATS connection error", error=repr(error)[:300])

    # With a cluster, every node is listed, so a service (re)starting while one is down still
    # connects.
    connecting = asyncio.ensure_future(
        client.connect(
            nats_servers(url),
            name=name,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,  # type: ignore[arg-type]  # seconds; its hint says int
            connect_timeout=5,
            error_cb=on_error,
            **identity,
        )
    )
    either: list[asyncio.Future[Any]] = [connecting, refused]
    await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    if refused.done():
        connecting.cancel()
        with contextlib.suppress(BaseException):
            await connecting
        with contextlib.suppress(Exception):
            await client.close()
        raise NatsCredentialsError(
            f"NATS at {url} refused {name}'s credentials ({', '.join(map(str, identity.values()))}): "
            "the key is not one of the server's users; check the seed file, or the server's "
            "authorization configuration"
        ) from refused.result()
    await connecting
    connected = True
    return client


def stream_config(settings: ServiceSettings) -> StreamConfig:
    return StreamConfig(
        name=settings.stream_name,
        subjects=[f"{settings.subject_root}.>"],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        num_replicas=settings.stream_replicas,
        duplicate_window=settings.stream_duplicate_window_seconds,
    )


async def ensure_stream(js: JetStreamContext, settings: ServiceSettings) -> None:
    """Create the stream, or bring an existing one to this configuration, on purpose."""
    config = stream_config(settings)
    try:
        await js.add_stream(config)
    except BadRequestError:
        await js.update_stream(config)
    log.debug("stream ready", stream=config.name, subjects=config.subjects)

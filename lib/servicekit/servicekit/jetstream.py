"""The JetStream stream every service publishes into and consumes from."""

import nats
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


async def connect_nats(url: str, name: str) -> NATS:
    # Reconnect forever: a NATS restart must not take the service down with it. With a
    # cluster, every node is listed, so a service (re)starting while one is down still connects.
    return await nats.connect(
        nats_servers(url),
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        connect_timeout=5,
    )


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

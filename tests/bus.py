"""What reached the bus: the test's JetStream stream read back, message by message."""

from typing import Any
from uuid import UUID

from nats.aio.client import Client as NATS

from offramp_contracts import EventEnvelope, event_catalogue


async def published(nats_client: NATS, isolation: Any) -> list[EventEnvelope]:
    """Every event in the test's stream, in stream order."""
    js = nats_client.jetstream()
    info = await js.stream_info(isolation.stream_name)
    events: list[EventEnvelope] = []
    if info.state.messages == 0:
        return events
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        message = await js.get_msg(isolation.stream_name, seq)
        if message.data:
            events.append(EventEnvelope.from_wire(message.data))
    return events


async def published_about(
    nats_client: NATS, isolation: Any, referral_id: str | UUID, context: str | None = None
) -> list[EventEnvelope]:
    """The events on the bus whose payload names this referral, of one context if given."""
    wanted = str(referral_id)
    catalogue = event_catalogue()
    return [
        e
        for e in await published(nats_client, isolation)
        if e.data.get("referral_id") == wanted
        and (context is None or catalogue[e.event_type].context == context)
    ]


async def types_about(
    nats_client: NATS, isolation: Any, referral_id: str | UUID, context: str | None = None
) -> list[str]:
    events = await published_about(nats_client, isolation, referral_id, context)
    return [e.event_type for e in events]

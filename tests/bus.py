"""What reached the bus: the test's JetStream stream read back, message by message."""

from typing import Any
from uuid import UUID, uuid4

from nats.aio.client import Client as NATS

from offramp_contracts import Actor, EventEnvelope, EventPayload, event_catalogue, subject_for
from offramp_contracts.provenance import ACCESS_EVENTS
from servicekit.event_keys import event_signer
from servicekit.events import new_event
from servicekit.provenance import EventSigner
from servicekit.settings import ServiceSettings


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


async def publish_event(
    nats_client: NATS,
    isolation: Any,
    payload: EventPayload,
    *,
    stream_id: str,
    stream_version: int,
    actor: Actor,
    jurisdiction: str = "pontiac",
) -> EventEnvelope:
    """Publish an event onto the test's stream as its owning service would (for events whose
    producer is not part of the test, or does not publish them yet)."""
    event = new_event(
        payload,
        stream_id=stream_id,
        stream_version=stream_version,
        jurisdiction=jurisdiction,
        actor=actor,
        correlation_id=uuid4(),
        causation_id=None,
    )
    await republish(nats_client, isolation, event)
    return event


def signer_for(isolation: Any, producer: str) -> EventSigner:
    """The test system's own signing key of `producer` (the one its service signs with)."""
    settings = ServiceSettings(service_name=producer, auth_local_key_path=isolation.key_path)
    return event_signer(settings)


def owner_of(event: EventEnvelope) -> str:
    """The service that publishes `event`: its context's, or for an access event the service
    that observed the access."""
    if event.event_type in ACCESS_EVENTS:
        return event.actor.subject.removeprefix("service:")
    return event_catalogue()[event.event_type].context


def signed_headers(
    isolation: Any, event: EventEnvelope, *, producer: str | None = None, msg_id: str | None = None
) -> dict[str, str]:
    """The headers `producer` (the event's owner by default) publishes `event` with."""
    signer = signer_for(isolation, producer or owner_of(event))
    return {"Nats-Msg-Id": msg_id or str(event.event_id), **signer.headers(event)}


async def republish(
    nats_client: NATS, isolation: Any, event: EventEnvelope, msg_id: str | None = None
) -> int:
    """Publish `event` (again) as its owner would, signed; a fresh `msg_id` gets past
    JetStream's duplicate window, as a relay re-sending an old outbox row would. Returns the
    stream sequence."""
    subject = subject_for(isolation.subject_root, event.jurisdiction, event.event_type)
    ack = await nats_client.jetstream().publish(
        subject, event.wire_json(), headers=signed_headers(isolation, event, msg_id=msg_id)
    )
    return int(ack.seq)

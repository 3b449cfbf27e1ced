"""Reading back what the system holds after the faults: the four event stores, the ledger, the
consumers' inboxes and dead letters, and the durable consumers JetStream knows."""

from collections import defaultdict
from dataclasses import dataclass
from uuid import UUID

import asyncpg
from nats.js import JetStreamContext

from offramp_contracts import EventEnvelope
from tests.faults.stack import SERVICES, STREAM

# Reads of a participant's record are audited as events too (DESIGN.md rule 11); they are not
# part of any command's set of events.
ACCESS_EVENTS = frozenset({"RecordAccessed", "AccessDenied"})


@dataclass(frozen=True)
class Stored:
    service: str
    position: int
    envelope: EventEnvelope

    @property
    def event_id(self) -> UUID:
        return self.envelope.event_id

    @property
    def stream(self) -> tuple[str, str]:
        return self.service, self.envelope.stream_id


async def stored_events(conn: asyncpg.Connection) -> list[Stored]:
    """Every event of every service's event store, in each store's order."""
    found = []
    for service in SERVICES:
        rows = await conn.fetch(
            f"SELECT position, envelope FROM {service}.events ORDER BY position"
        )
        found += [
            Stored(service, row["position"], EventEnvelope.model_validate_json(row["envelope"]))
            for row in rows
        ]
    return found


def by_correlation(events: list[Stored], service: str) -> dict[UUID, list[EventEnvelope]]:
    """A service's domain events grouped by the request (correlation id) that caused them."""
    grouped: dict[UUID, list[EventEnvelope]] = defaultdict(list)
    for stored in events:
        if stored.service == service and stored.envelope.event_type not in ACCESS_EVENTS:
            grouped[stored.envelope.correlation_id].append(stored.envelope)
    return grouped


@dataclass(frozen=True)
class LedgerEntry:
    seq: int
    event_id: UUID
    subject: str


async def ledger(conn: asyncpg.Connection) -> list[LedgerEntry]:
    rows = await conn.fetch("SELECT seq, event_id, subject FROM audit.ledger ORDER BY seq")
    return [LedgerEntry(row["seq"], row["event_id"], row["subject"]) for row in rows]


async def consumer_filters(js: JetStreamContext) -> dict[str, list[str]]:
    """Each durable consumer of the stream and the subjects it takes."""
    filters = {}
    for info in await js.consumers_info(STREAM):
        config = info.config
        filters[info.name] = list(config.filter_subjects or [config.filter_subject or ">"])
    return filters


def service_of(consumer: str) -> str:
    """Consumers are named after their service (`casework-admitted-v1`)."""
    service = consumer.split("-", 1)[0]
    assert service in SERVICES, f"consumer {consumer} belongs to no known service"
    return service


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: `*` is one token, `>` the rest."""
    wanted, tokens = pattern.split("."), subject.split(".")
    for index, token in enumerate(wanted):
        if token == ">":
            return len(tokens) > index
        if index >= len(tokens) or (token != "*" and token != tokens[index]):
            return False
    return len(tokens) == len(wanted)


async def inbox(conn: asyncpg.Connection, service: str, consumer: str) -> list[UUID]:
    rows = await conn.fetch(f"SELECT event_id FROM {service}.inbox WHERE consumer = $1", consumer)
    return [row["event_id"] for row in rows]


async def dead_letters(conn: asyncpg.Connection) -> list[tuple[str, str, str, bytes, UUID | None]]:
    """(service, consumer, subject, body, event id) of every dead letter, in every service."""
    found = []
    for service in SERVICES:
        rows = await conn.fetch(
            f"SELECT consumer, subject, body, event_id FROM {service}.dead_letters ORDER BY id"
        )
        found += [
            (service, r["consumer"], r["subject"], bytes(r["body"]), r["event_id"]) for r in rows
        ]
    return found

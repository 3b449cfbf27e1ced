"""The command loop every service runs, written once (ADR 0011).

An aggregate is a *decider* (emmett's shape): `decide(command, state) -> events` says what a
command means on the state as it is, `evolve(state, event) -> state` folds one event, and
`initial_state` is the state of a stream with no events yet. Both functions are pure and live in
the service's `domain/`.

`handle_command` runs one command in the caller's transaction: load the stream, fold it,
decide, and append the events with the version the decision was taken on. Another writer that
appended meanwhile makes the append fail with `ConcurrencyError` (naming the stream and the
version), and nothing is stored. The event store writes the outbox rows in the same
transaction, so the events reach the bus if and only if they were stored.

Services that take part of the decision outside a decider (a read model's lock, a second
stream) use the two halves directly: `load` and `append`.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Literal, TypeVar
from uuid import UUID

import asyncpg

from offramp_contracts import Actor, EventEnvelope, EventPayload, payload_of
from servicekit.events import new_event
from servicekit.eventstore import ConcurrencyError
from servicekit.ports import StreamStore

C = TypeVar("C")
S = TypeVar("S")

Evolve = Callable[[S, EventPayload], S]


@dataclass(frozen=True)
class Decider(Generic[C, S]):
    """An aggregate's rules: what a command decides, how an event changes the state."""

    decide: Callable[[C, S], Sequence[EventPayload]]
    evolve: Evolve[S]
    initial_state: S


@dataclass(frozen=True)
class Origin:
    """Who caused the events, where, and why: what every envelope of a command carries."""

    actor: Actor
    jurisdiction: str
    correlation_id: UUID
    causation_id: UUID | None = None


@dataclass(frozen=True)
class Loaded(Generic[S]):
    """A stream as stored: the folded state, the version it is at and its events."""

    state: S
    version: int
    events: tuple[EventEnvelope, ...]


@dataclass(frozen=True)
class Handled(Generic[S]):
    """What a command stored: the state after it, the stream's new version, the new events."""

    state: S
    version: int
    events: list[EventEnvelope]


def fold(evolve: Evolve[S], initial: S, events: Iterable[EventPayload]) -> S:
    state = initial
    for event in events:
        state = evolve(state, event)
    return state


async def load(
    conn: asyncpg.Connection, store: StreamStore, stream_id: str, evolve: Evolve[S], initial: S
) -> Loaded[S]:
    envelopes = await store.read_stream(conn, stream_id)
    state = fold(evolve, initial, (payload_of(e) for e in envelopes))
    version = envelopes[-1].stream_version if envelopes else 0
    return Loaded(state, version, tuple(envelopes))


async def append(
    conn: asyncpg.Connection,
    store: StreamStore,
    stream_id: str,
    expected_version: int,
    payloads: Sequence[EventPayload],
    origin: Origin,
    *,
    causation: Literal["origin", "chain"] = "origin",
    occurred_at: datetime | None = None,
    event_ids: Sequence[UUID] | None = None,
) -> list[EventEnvelope]:
    """Wraps `payloads` in envelopes and appends them after `expected_version`, in the caller's
    transaction. With `causation="chain"` each event is caused by the one before it (the first
    by the origin's cause); otherwise all are caused by the origin's cause. `event_ids` gives
    ids derived by the caller (a retried step must recreate the same events)."""
    if not conn.is_in_transaction():
        raise RuntimeError("the command loop runs inside the caller's transaction")
    envelopes: list[EventEnvelope] = []
    for offset, payload in enumerate(payloads, start=1):
        chained = causation == "chain" and envelopes
        envelopes.append(
            new_event(
                payload,
                stream_id=stream_id,
                stream_version=expected_version + offset,
                jurisdiction=origin.jurisdiction,
                actor=origin.actor,
                correlation_id=origin.correlation_id,
                causation_id=envelopes[-1].event_id if chained else origin.causation_id,
                occurred_at=occurred_at,
                event_id=event_ids[offset - 1] if event_ids else None,
            )
        )
    if envelopes:
        await store.append(conn, stream_id, expected_version, envelopes)
    return envelopes


async def handle_command(
    conn: asyncpg.Connection,
    store: StreamStore,
    stream_id: str,
    decider: Decider[C, S],
    command: C,
    origin: Origin,
    *,
    causation: Literal["origin", "chain"] = "origin",
) -> Handled[S]:
    """Load, fold, decide, append with the expected version; raises what `decide` raises (a
    refusal) or `ConcurrencyError`, having stored nothing."""
    loaded = await load(conn, store, stream_id, decider.evolve, decider.initial_state)
    payloads = decider.decide(command, loaded.state)
    envelopes = await append(
        conn, store, stream_id, loaded.version, payloads, origin, causation=causation
    )
    state = fold(decider.evolve, loaded.state, payloads)
    return Handled(state, loaded.version + len(envelopes), envelopes)


__all__ = [
    "ConcurrencyError",
    "Decider",
    "Evolve",
    "Handled",
    "Loaded",
    "Origin",
    "append",
    "fold",
    "handle_command",
    "load",
]

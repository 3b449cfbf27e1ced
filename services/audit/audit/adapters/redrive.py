"""Re-driving the ledger onto the bus, so a fresh consumer can rebuild a read model from scratch.

History goes to a stream and subject root of its own, never back onto the live subjects: the
live consumers would only skip it (their inboxes have seen every event), and the ledger must not
be asked to append what it already holds. A rebuilt read model is a service instance pointed at
that stream and root (`OFFRAMP_STREAM_NAME`, `OFFRAMP_SUBJECT_ROOT`) with an empty schema.
"""

import json
from collections.abc import Callable

import asyncpg
from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError

from audit.adapters.ledger_store import size as ledger_size
from offramp_contracts import EventEnvelope
from servicekit.provenance import KEY_ID_HEADER, SIGNATURE_HEADER


def replay_subject(subject: str, root: str) -> str:
    """`lead.pontiac.intake.ReferralReceived` under root `rebuild` is
    `rebuild.pontiac.intake.ReferralReceived`."""
    _, _, rest = subject.partition(".")
    return f"{root}.{rest}"


async def ensure_replay_stream(js: JetStreamContext, stream: str, root: str) -> None:
    config = StreamConfig(
        name=stream,
        subjects=[f"{root}.>"],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
    )
    try:
        await js.add_stream(config)
    except BadRequestError:
        await js.update_stream(config)


async def redrive(
    pool: asyncpg.Pool,
    js: JetStreamContext,
    *,
    stream: str,
    subject_root: str,
    first: int = 1,
    last: int | None = None,
    batch_size: int = 500,
    progress: Callable[[int], object] | None = None,
) -> int:
    """Publish entries `first`..`last` (default: to the head) in ledger order; returns how many.

    Each message keeps the event's id as `Nats-Msg-Id`, so running the same re-drive twice
    within the stream's duplicate window publishes each event once.
    """
    await ensure_replay_stream(js, stream, subject_root)
    last = last if last is not None else await ledger_size(pool)
    sent, after = 0, first - 1
    while after < last:
        rows = await pool.fetch(
            """SELECT seq, subject, entry, key_id, signature FROM ledger
               WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3""",
            after,
            last,
            batch_size,
        )
        if not rows:
            break
        for row in rows:
            event = EventEnvelope.model_validate(json.loads(row["entry"])["event"])
            headers = {"Nats-Msg-Id": str(event.event_id)}
            if row["signature"]:
                # Its producer's own signature: a rebuilt read model believes history no more
                # than the live consumers did.
                headers |= {KEY_ID_HEADER: row["key_id"], SIGNATURE_HEADER: row["signature"]}
            await js.publish(
                replay_subject(row["subject"], subject_root),
                event.wire_json(),
                stream=stream,
                headers=headers,
            )
        sent += len(rows)
        after = rows[-1]["seq"]
        if progress is not None:
            progress(len(rows))
    return sent

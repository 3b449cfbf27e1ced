"""What provenance costs (issue 18): the same work with and without Ed25519 event signatures,
measured in the same run.

- append: one event per transaction through servicekit's EventStore (event row, outbox row,
  NOTIFY), as a command commits it, with no signer and with the producer's signer;
- receive: what a consumer does with each message it takes, parsing the envelope, without and
  with `check_provenance` (the signature verified against the keyring, the producer's ownership
  of the subject checked), in process;
- and the bare Ed25519 sign and verify of one envelope's signed bytes, for scale.
"""

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import TypeVar
from uuid import uuid4

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.harness import loadavg, report, servers
from offramp_contracts import Actor, EventEnvelope
from offramp_contracts.events.casework import ClientEngaged
from servicekit.events import new_event
from servicekit.eventstore import EventStore
from servicekit.migrations import migrate, plumbing_migrations
from servicekit.outbox import notify_channel
from servicekit.provenance import EventSigner, KeySet, check_provenance, signed_bytes

SIZES = {"smoke": 50, "quick": 2000, "full": 20000}
ACTOR = Actor(subject="bench", agency="alliance", role="case_manager")
SUBJECT = "bench.pontiac.casework.ClientEngaged"
T = TypeVar("T")


def events(count: int) -> list[EventEnvelope]:
    return [
        new_event(
            ClientEngaged(case_id=uuid4(), contact_id=uuid4()),
            stream_id=f"case-{uuid4()}",
            stream_version=1,
            jurisdiction="pontiac",
            actor=ACTOR,
            correlation_id=uuid4(),
            causation_id=None,
        )
        for _ in range(count)
    ]


async def appends_per_second(
    conn: asyncpg.Connection, schema: str, batch: list[EventEnvelope], signer: EventSigner | None
) -> float:
    store = EventStore(subject_root="bench", notify_channel=notify_channel(schema), signer=signer)
    await conn.execute(f"SET search_path TO {schema}")
    began = time.perf_counter()
    for event in batch:
        async with conn.transaction():
            await store.append(conn, event.stream_id, 0, [event])
    return len(batch) / (time.perf_counter() - began)


def per_second(work: Sequence[T], step: Callable[[T], object]) -> float:
    began = time.perf_counter()
    for item in work:
        step(item)
    return len(work) / (time.perf_counter() - began)


async def measure(size: str) -> None:
    count = SIZES[size]
    load = loadavg()
    signer = EventSigner("casework", Ed25519PrivateKey.generate())
    keys = KeySet({signer.key_id: signer.public})
    rows: list[dict[str, object]] = []
    with servers() as running:
        dsn = await running.postgres.create_database("bench_signing")
        conn = await asyncpg.connect(dsn)
        for schema in ("unsigned", "signed"):
            await conn.execute(f"CREATE SCHEMA {schema}")
            await conn.execute(f"SET search_path TO {schema}")
            await migrate(conn, schema, plumbing_migrations())
        # Alternate the two sides in rounds, so a change of load falls on both.
        rounds, plain, signed = 4, 0.0, 0.0
        for _ in range(rounds):
            plain += await appends_per_second(conn, "unsigned", events(count // rounds), None)
            signed += await appends_per_second(conn, "signed", events(count // rounds), signer)
        await conn.close()
    rows.append(
        {
            "path": "append, one event a transaction",
            "unsigned_per_s": round(plain / rounds),
            "signed_per_s": round(signed / rounds),
            "ratio": round(signed / plain, 3),
        }
    )

    batch = events(count)
    wires = [(e.wire_json(), signer.headers(e)) for e in batch]
    parse_only = per_second(wires, lambda w: EventEnvelope.model_validate_json(w[0]))
    parse_and_check = per_second(
        wires,
        lambda w: check_provenance(keys, SUBJECT, EventEnvelope.model_validate_json(w[0]), w[1]),
    )
    rows.append(
        {
            "path": "receive: parse, then check the signature",
            "unsigned_per_s": round(parse_only),
            "signed_per_s": round(parse_and_check),
            "ratio": round(parse_and_check / parse_only, 3),
        }
    )
    payloads = [signed_bytes(e) for e in batch]
    signatures = [signer.key.sign(p) for p in payloads]
    public = signer.key.public_key()
    sign_us = 1e6 / per_second(payloads, signer.key.sign)
    pairs = list(zip(signatures, payloads, strict=True))
    verify_us = 1e6 / per_second(pairs, lambda pair: public.verify(*pair))
    rows.append({"path": "Ed25519 sign of one envelope, µs", "signed_per_s": round(sign_us, 1)})
    rows.append({"path": "Ed25519 verify of one envelope, µs", "signed_per_s": round(verify_us, 1)})
    report(
        "signing",
        size,
        rows,
        load_before=load,
        notes=(
            f"{count} events each way; ratio = with signatures ÷ without, in the same run "
            "(append alternates the two sides in rounds)"
        ),
    )


def main(size: str) -> None:
    asyncio.run(measure(size))

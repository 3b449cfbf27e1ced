"""The outcomes read model rebuilt from the ledger's redrive (issue 13: at least half as fast as
a raw read of it), against a bare JetStream pull-consume-and-ack over the same stream.

The stream is what `offramp-audit redrive` leaves: whole case histories (admission, opening,
assignment, contacts, engagement, closing) signed by the services that own them, on a stream of
their own. `offramp-outcomes rebuild` folds it with the service's inbox: each event's signature
and producer checked, folded into the read model, its id recorded, in one transaction.
"""

import asyncio
import json
import time
from pathlib import Path

import nats
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nats.js import JetStreamContext
from nats.js.api import StreamConfig

from bench.harness import loadavg, report, servers
from bench.ingest import case_history
from offramp_contracts import subject_for
from offramp_devstack import nats_auth
from outcomes.bootstrap import CONSUMER_NAME, migrations
from outcomes.domain.facts import Pseudonymiser
from outcomes.entrypoints.rebuild import rebuild
from outcomes.settings import OutcomesSettings
from servicekit.event_keys import add_to_keyring
from servicekit.provenance import EventSigner

SIZES = {"smoke": 20, "quick": 600, "full": 7200}  # cases of seven events
STREAM, ROOT = "BENCH_REDRIVE", "redrive"
BATCH = 256


async def redriven(js: JetStreamContext, keyring: Path, cases: int) -> int:
    """Publishes `cases` histories, signed by their producers, onto the redrive stream."""
    signers = {
        producer: EventSigner(producer, Ed25519PrivateKey.generate())
        for producer in ("intake", "casework")
    }
    for signer in signers.values():
        add_to_keyring(keyring, signer.public)
    await js.add_stream(StreamConfig(name=STREAM, subjects=[f"{ROOT}.>"]))
    messages = []
    for n in range(cases):
        for event in case_history(n)[1]:
            subject = subject_for(ROOT, event.jurisdiction, event.event_type)
            producer = subject.split(".")[2]
            headers = {"Nats-Msg-Id": str(event.event_id), **signers[producer].headers(event)}
            messages.append((subject, event.wire_json(), headers))
    for start in range(0, len(messages), BATCH):
        await asyncio.gather(
            *(js.publish(s, body, headers=h) for s, body, h in messages[start : start + BATCH])
        )
    return len(messages)


async def raw_read(js: JetStreamContext, count: int) -> float:
    """A fresh durable pull consumer over the stream: fetch, parse, ack each, until `count`."""
    sub = await js.pull_subscribe(f"{ROOT}.>", durable="bench-raw", stream=STREAM)
    consumed = 0
    began = time.perf_counter()
    while consumed < count:
        try:
            msgs = await sub.fetch(BATCH, timeout=10)
        except TimeoutError:
            continue
        for msg in msgs:
            json.loads(msg.data)
            await msg.ack()
        consumed += len(msgs)
    seconds = time.perf_counter() - began
    await sub.unsubscribe()
    return seconds


async def measure(size: str) -> None:
    load = loadavg()
    with servers() as running:
        dsn = await running.postgres.create_database("bench_rebuild")
        keyring = running.home / "event-keys"
        client = await nats.connect(running.nats.url, **running.nats.connect_options())
        try:
            js = client.jetstream()
            events = await redriven(js, keyring, SIZES[size])
            raw_seconds = await raw_read(js, events)
        finally:
            await client.close()
        settings = OutcomesSettings(
            database_url=dsn,
            nats_url=running.nats.url,
            nats_nkey_seed_path=running.nats.seed(nats_auth.ADMIN),
            event_keyring_dir=keyring,
            pseudonym_key_path=running.home / "pseudonym.key",
        )
        began = time.perf_counter()
        folded = await rebuild(
            settings,
            Pseudonymiser(settings.pseudonym_key()),
            migrations(),
            stream=STREAM,
            subject_root=ROOT,
            consumer_name=CONSUMER_NAME,
            progress=False,
        )
        ours_seconds = time.perf_counter() - began
    if folded != events:
        raise RuntimeError(f"the rebuild folded {folded} of {events} events")
    ours, theirs = events / ours_seconds, events / raw_seconds
    report(
        "outcomes_rebuild",
        size,
        [
            {
                "events": events,
                "rebuild_events_per_s": round(ours, 1),
                "raw_read_per_s": round(theirs, 1),
                "ratio": round(ours / theirs, 3),
            }
        ],
        load_before=load,
        notes=(
            f"{events} redriven events of {SIZES[size]} case histories folded by "
            "`offramp-outcomes rebuild` (its migrations included); raw: a bare pull consumer "
            f"fetching {BATCH} at a time, parsing and acking each, over the same stream"
        ),
    )


def main(size: str) -> None:
    asyncio.run(measure(size))

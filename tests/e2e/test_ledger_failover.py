"""The ledger writer killed mid-stream: a standby replica takes over, and the ledger ends up
with every event once, in one gapless, intact chain.

The replicas are real `offramp-audit serve` processes, and the writer is killed with SIGKILL,
so nothing gets to finish a batch, ack, or release its lease politely.
"""

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import pytest
from nats.aio.client import Client as NATS

from audit.adapters import ledger_store
from offramp_contracts import Actor, EventEnvelope
from offramp_contracts.events.casework import ClientEngaged
from servicekit.auth import LocalIssuer
from servicekit.events import new_event
from tests.bus import signed_headers
from tests.conftest import wait_for


def an_event(n: int) -> EventEnvelope:
    """A case manager's contact with the participant of case `n`, as casework publishes it."""
    return new_event(
        ClientEngaged(case_id=uuid4(), contact_id=uuid4()),
        stream_id=f"case-{n}",
        stream_version=1,
        jurisdiction="pontiac",
        actor=Actor(subject="cm-1", agency="alliance", role="case_manager"),
        correlation_id=uuid4(),
        causation_id=None,
    )


@pytest.fixture
def replicas(
    servers: Any, isolation: Any, tmp_path: Path
) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    # Both replicas read the local issuer's key; create it once, before either starts.
    LocalIssuer(isolation.key_path, issuer="offramp-local", audience="offramp")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("OFFRAMP_")},
        "OFFRAMP_ENV_FILE": "",
        "OFFRAMP_DATABASE_URL": isolation.database_url,
        "OFFRAMP_NATS_URL": servers.nats.url,
        "OFFRAMP_NATS_CREDENTIALS_DIR": str(servers.nats.credentials_dir),
        "OFFRAMP_SUBJECT_ROOT": isolation.subject_root,
        "OFFRAMP_STREAM_NAME": isolation.stream_name,
        "OFFRAMP_AUTH_LOCAL_KEY_PATH": str(isolation.key_path),
        "OFFRAMP_HTTP_PORT": "0",
        "OFFRAMP_LOG_LEVEL": "WARNING",
        # Short, so that what the killed writer had fetched reaches the standby quickly.
        "OFFRAMP_LEDGER_ACK_WAIT_SECONDS": "2",
        "OFFRAMP_LEDGER_LEASE_RETRY_SECONDS": "0.2",
        "OFFRAMP_LEDGER_BATCH_SIZE": "20",
    }
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        log = (tmp_path / f"audit-{len(started)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "audit.entrypoints.cli", "serve"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


OURS = "subject NOT LIKE '%.audit.CheckpointSigned'"


async def test_a_killed_writer_is_replaced_and_nothing_is_lost_or_doubled(
    replicas: Any, isolation: Any, nats_client: NATS
) -> None:
    pool = await asyncpg.create_pool(
        isolation.database_url, server_settings={"search_path": "audit"}
    )
    assert pool is not None
    js = nats_client.jetstream()
    events = [an_event(n) for n in range(401)]
    subject = f"{isolation.subject_root}.pontiac.casework.ClientEngaged"

    async def in_ledger() -> int:
        """The test's own events in the ledger: a time-based checkpoint may add the ledger's
        own CheckpointSigned at any moment (say, when the machine's clock is stepped)."""
        try:
            return int(await pool.fetchval(f"SELECT count(*) FROM ledger WHERE {OURS}"))
        except asyncpg.UndefinedTableError:
            return 0

    async def publish(batch: list[EventEnvelope], *, again: bool = False) -> None:
        for event in batch:
            # A second copy under a new message id passes JetStream's duplicate window, as a
            # republished outbox row would: only the ledger's event id stops it.
            msg_id = str(uuid4()) if again else str(event.event_id)
            headers = signed_headers(isolation, event, msg_id=msg_id)
            await js.publish(subject, event.wire_json(), headers=headers)

    try:
        writer = replicas()
        await wait_for(_stream_exists(js, isolation.stream_name), timeout=60, what="the stream")
        await publish(events[:1])
        await wait_for(lambda: in_ledger(), timeout=60, what="the first replica to write")
        standby = replicas()

        async def produce(until: int) -> None:
            for start in range(1, until, 25):
                await publish(events[start : start + 25])
                await publish(events[start : start + 5], again=True)
                await asyncio.sleep(0)  # let the other tasks run between bursts

        producing = asyncio.create_task(produce(until=300))  # events 1 to 300, and repeats
        await wait_for(lambda: _more_than(in_ledger, 100), timeout=60, what="writing under load")
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
        await producing
        # Events 0 to 300 are out, each once or twice; the standby may already have taken over.
        assert await in_ledger() <= 301
        await publish(events[301:])
        await publish(events[390:], again=True)

        await wait_for(
            lambda: _more_than(in_ledger, len(events) - 1),
            timeout=90,
            what="the standby to append every event",
        )
        assert standby.poll() is None, "the standby died"
        seqs = [r["seq"] for r in await pool.fetch("SELECT seq FROM ledger ORDER BY seq")]
        assert seqs == list(range(1, len(seqs) + 1))
        ours = await pool.fetch(f"SELECT event_id FROM ledger WHERE {OURS}")
        assert sorted(r["event_id"] for r in ours) == sorted(e.event_id for e in events)
        report = await ledger_store.walk(pool, [], {})
        assert report.intact and report.entries_checked == len(seqs)
    finally:
        await pool.close()


def _stream_exists(js: Any, name: str) -> Any:
    async def check() -> bool:
        try:
            await js.stream_info(name)
            return True
        except Exception:
            return False

    return check


async def _more_than(count: Any, n: int) -> bool:
    return bool(await count() > n)

"""The ledger's commands as an auditor runs them: `check` on another machine with nothing but
the file, `verify` against the database, and `redrive` into a fresh consumer."""

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nats.aio.client import Client as NATS

from audit import proofs
from audit.adapters import ledger_store
from audit.adapters.checkpoint_store import Checkpointer
from audit.adapters.redrive import redrive
from audit.domain.checkpoint import CheckpointPolicy
from audit.entrypoints.ledger_cli import check_file
from offramp_contracts import EventEnvelope
from offramp_devstack.waiting import wait_for
from servicekit.eventstore import EventStore
from servicekit.inbox import Delivered, InboxConsumer
from servicekit.outbox import notify_channel
from tests.producers import PRODUCER_KEYS, arrival, private_key_file, write_keyring

SUBJECT = "lead.pontiac.casework.ClientEngaged"


def write_key(tmp_path: Path) -> tuple[Ed25519PrivateKey, Path, Path]:
    key = Ed25519PrivateKey.generate()
    private = tmp_path / "ledger-signing-key.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = tmp_path / "ledger.pem"
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return key, private, public


async def ledger_with_checkpoint(
    pool: asyncpg.Pool, events: list[EventEnvelope], key: Ed25519PrivateKey
) -> None:
    signer = Checkpointer(
        key=key,
        policy=CheckpointPolicy(every_entries=1, every_seconds=3600),
        origin="test-ledger",
        jurisdiction="county",
        store=EventStore(subject_root="lead", notify_channel=notify_channel("audit")),
    )
    async with pool.acquire() as conn:
        async with conn.transaction():
            await ledger_store.append_batch(conn, [arrival(SUBJECT, e) for e in events])
        await signer.sign_if_due(conn, await ledger_store.read_head(conn))


def offramp_audit(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "audit.entrypoints.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def without_offramp_settings() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OFFRAMP_")}
    env["OFFRAMP_ENV_FILE"] = ""  # nor the settings file `make up` may have left
    # Nothing listens here: a command that tried the database would fail.
    env["OFFRAMP_DATABASE_URL"] = "postgresql://nobody@127.0.0.1:9/none"
    return env


async def test_an_export_verifies_offline_and_a_tampered_one_does_not(
    role_pool: asyncpg.Pool, event_of: Any, tmp_path: Path
) -> None:
    key, _, public = write_key(tmp_path)
    await ledger_with_checkpoint(role_pool, [event_of(n) for n in range(9)], key)
    bundle = await proofs.export(
        role_pool, key.public_key(), PRODUCER_KEYS, first=2, last=7, checkpoint=None
    )
    exported = tmp_path / "export.json"
    exported.write_text(json.dumps(bundle))

    env = without_offramp_settings()
    good = offramp_audit("check", str(exported), "--public-key", str(public), env=env)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "export verified" in good.stdout
    assert "entries 2 to 7 are in that checkpoint, unaltered" in good.stdout

    bundle["entries"][2]["entry"] = bundle["entries"][2]["entry"].replace('"n":3', '"n":33')
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(bundle))
    bad = offramp_audit("check", str(tampered), "--public-key", str(public), env=env)
    assert bad.returncode == 1
    assert "FAILED: entry 4 does not match its hash" in bad.stdout
    assert "does NOT verify" in bad.stdout


async def test_check_warns_when_the_key_was_not_pinned(
    role_pool: asyncpg.Pool, event_of: Any, tmp_path: Path, capsys: Any
) -> None:
    key, _, _ = write_key(tmp_path)
    await ledger_with_checkpoint(role_pool, [event_of(n) for n in range(3)], key)
    proof = tmp_path / "proof.json"
    proof.write_text(
        json.dumps(
            await proofs.inclusion(role_pool, key.public_key(), PRODUCER_KEYS, seq=2, checkpoint=1)
        )
    )
    assert check_file(proof, None) == 0
    assert "pass --public-key" in capsys.readouterr().out


async def test_verify_reports_intact_up_to_the_last_entry_and_checkpoint(
    role_pool: asyncpg.Pool, event_of: Any, tmp_path: Path, isolation: Any
) -> None:
    key, private, _ = write_key(tmp_path)
    await ledger_with_checkpoint(role_pool, [event_of(n) for n in range(6)], key)
    env = {
        **without_offramp_settings(),
        "OFFRAMP_DATABASE_URL": isolation.database_url,
        "OFFRAMP_LEDGER_SIGNING_KEY_PATH": str(private),
        "OFFRAMP_EVENT_KEYRING_DIR": str(write_keyring(tmp_path / "keyring")),
        "OFFRAMP_EVENT_SIGNING_KEY_PATH": str(private_key_file(tmp_path, "audit")),
        "OFFRAMP_EVENT_SIGNING_KEY_CREATE": "false",
    }
    result = await asyncio.to_thread(offramp_audit, "verify", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "intact up to entry 6, checkpoint 1; every entry signed by its producer (casework 6)"
    )
    # The operator's read is an event on its way to the ledger, like any read over HTTP.
    reads = await role_pool.fetch(
        "SELECT e.envelope FROM events e JOIN outbox o USING (event_id) "
        "WHERE e.event_type = 'RecordAccessed'"
    )
    assert len(reads) == 1
    read = json.loads(reads[0]["envelope"])["data"]
    assert read["action"] == "offramp-audit verify"
    assert read["who"]["subject"].startswith("cli:")
    assert read["records"] == [{"kind": "ledger", "id": None}]


async def test_redrive_feeds_a_range_of_the_ledger_to_a_fresh_consumer_in_order(
    role_pool: asyncpg.Pool,
    owner_pool: asyncpg.Pool,
    event_of: Any,
    nats_client: NATS,
    isolation: Any,
) -> None:
    # Real ClientEngaged data: the consumer checks every event's payload before its handler.
    events = [
        event_of(n, data={"case_id": str(uuid4()), "contact_id": str(uuid4())}) for n in range(10)
    ]
    async with role_pool.acquire() as conn, conn.transaction():
        await ledger_store.append_batch(conn, [arrival(SUBJECT, e) for e in events])
    js = nats_client.jetstream()
    root, stream = f"{isolation.subject_root}r", f"{isolation.stream_name}R"
    sent = await redrive(role_pool, js, stream=stream, subject_root=root, first=3, last=8)
    assert sent == 6

    rebuilt: list[Delivered] = []

    async def rebuild(conn: asyncpg.Connection, delivered: Delivered) -> None:
        rebuilt.append(delivered)

    consumer = InboxConsumer(
        pool=owner_pool,
        js=js,
        stream=stream,
        name="rebuild-v1",
        subjects=[f"{root}.>"],
        handler=rebuild,
        # The re-driven events carry their producers' signatures, checked as live ones are.
        keyring=PRODUCER_KEYS,
    )
    task = asyncio.create_task(consumer.run())
    try:
        await wait_for(lambda: _at_least(rebuilt, 6), timeout=30, what="the re-driven events")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert [d.event.event_id for d in rebuilt] == [e.event_id for e in events[2:8]]
    assert {d.subject for d in rebuilt} == {f"{root}.pontiac.casework.ClientEngaged"}


async def _at_least(items: list[Delivered], n: int) -> bool:
    return len(items) >= n

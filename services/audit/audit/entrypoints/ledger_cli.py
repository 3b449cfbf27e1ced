"""The auditor's and operator's ledger commands.

`check` needs nothing but the file (and, to be sure, the public key obtained separately): it is
what an auditor runs on another machine. The others read the ledger through the database, act
as the ledger's role, and are recorded in the ledger as RecordAccessed like any HTTP read.
"""

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from tqdm import tqdm

from audit.adapters import ledger_store
from audit.adapters.ledger_reads import PostgresLedgerReads
from audit.adapters.redrive import redrive
from audit.adapters.signing_key import load_signing_key
from audit.domain.bundle import check_bundle
from audit.domain.refusals import BadRange, NotFound, Unvouched
from audit.entrypoints import witness_cli
from audit.settings import AuditSettings
from audit.use_cases import CaseHistory, ExportRange, LedgerQueries, ReferralHistory, VerifyLedger
from offramp_contracts.events.audit import RecordRef
from servicekit.access import record_command
from servicekit.event_keys import Keyring, keyring_dir
from servicekit.jetstream import connect_nats, nats_identity
from servicekit.operator_cli import load_settings
from servicekit.provenance import Keys, KeySet


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    check = commands.add_parser(
        "check", help="check an exported range or a proof file offline, without the database"
    )
    check.add_argument("file", type=Path)
    check.add_argument(
        "--public-key", type=Path, help="the ledger's public key (PEM), obtained separately"
    )
    check.add_argument(
        "--producer-keys",
        type=Path,
        help="the services' event keys (JSON, as GET /ledger/producer-keys serves them), "
        "obtained separately",
    )

    verify = commands.add_parser("verify", help="walk the whole chain and every checkpoint")
    verify.add_argument("--public-key", type=Path, action="append", default=[])
    verify.add_argument(
        "--producer-keys", type=Path, help="the services' event keys (default: the keyring)"
    )
    verify.add_argument("--no-progress", action="store_true")

    export = commands.add_parser(
        "export", help="write entries FIRST..LAST with their checkpoint and proofs to a file"
    )
    export.add_argument("--first", type=int, required=True)
    export.add_argument("--last", type=int, required=True)
    export.add_argument("--checkpoint", type=int, help="checkpoint number (default: latest)")
    export.add_argument("--out", type=Path, required=True)

    witness_cli.add_parser(commands)

    history = commands.add_parser("history", help="the timeline of a case or a referral")
    which = history.add_mutually_exclusive_group(required=True)
    which.add_argument("--case", type=UUID)
    which.add_argument("--referral", type=UUID)

    again = commands.add_parser(
        "redrive", help="publish the ledger, or a range of it, to a fresh stream for a rebuild"
    )
    again.add_argument("--stream", required=True, help="JetStream stream to publish into")
    again.add_argument("--subject-root", required=True, help="subject root of that stream")
    again.add_argument("--first", type=int, default=1)
    again.add_argument("--last", type=int)
    again.add_argument("--no-progress", action="store_true")


def run_command(args: argparse.Namespace) -> int:
    if args.command == "check":
        return check_file(args.file, args.public_key, args.producer_keys)
    if args.command == "witness":
        return witness_cli.run(args, _pem_key)
    settings = load_settings(AuditSettings)
    commands: dict[str, Callable[[asyncpg.Pool], Awaitable[int]]] = {
        "verify": lambda pool: _verify(pool, settings, args),
        "export": lambda pool: _export(pool, settings, args),
        "history": lambda pool: _history(pool, settings, args),
        "redrive": lambda pool: _redrive(pool, settings, args),
    }
    return asyncio.run(_with_pool(settings, args, commands[args.command]))


def _pem_key(path: Path) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise SystemExit(f"{path} is not an Ed25519 public key")
    return key


def _producer_keys(path: Path) -> KeySet:
    return KeySet.from_json(json.loads(path.read_text()))


def check_file(path: Path, public_key: Path | None, producer_keys: Path | None = None) -> int:
    document: dict[str, Any] = json.loads(path.read_text())
    result = check_bundle(
        document,
        _pem_key(public_key) if public_key else None,
        _producer_keys(producer_keys) if producer_keys else None,
    )
    for fact in result.facts:
        print(f"ok: {fact}")
    for problem in result.problems:
        print(f"FAILED: {problem}")
    if not result.key_pinned:
        print(
            "note: checked with the public key inside the file; pass --public-key with the "
            "key you obtained from the ledger to know who signed it"
        )
    print(f"{path}: {result.kind} {'verified' if result.ok else 'does NOT verify'}")
    return 0 if result.ok else 1


async def _with_pool(
    settings: AuditSettings,
    args: argparse.Namespace,
    command: Callable[[asyncpg.Pool], Awaitable[int]],
) -> int:
    pool = await ledger_store.ledger_pool(settings.database_url, settings.db_schema, max_size=2)
    try:
        await _record_command(pool, settings, args)
        return await command(pool)
    finally:
        await pool.close()


async def _record_command(
    pool: asyncpg.Pool, settings: AuditSettings, args: argparse.Namespace
) -> None:
    async with pool.acquire() as conn:
        await record_command(
            conn,
            settings,
            command=f"offramp-audit {args.command}",
            arguments={k: v for k, v in vars(args).items() if k != "command" and v is not None},
            records=[RecordRef(kind="ledger")],
            jurisdiction=settings.ledger_jurisdiction,
        )


def _queries(
    pool: asyncpg.Pool,
    settings: AuditSettings,
    *,
    signing_key: Ed25519PrivateKey | None,
    producer_keys: Keys | None = None,
) -> LedgerQueries:
    return LedgerQueries(
        settings=settings,
        pool=pool,
        reads=PostgresLedgerReads(pool),
        producer_keys=producer_keys if producer_keys is not None else KeySet({}),
        signing_key=signing_key,
    )


def _signing_key(settings: AuditSettings) -> Ed25519PrivateKey:
    return load_signing_key(settings.signing_key_path(), create=False)


async def _verify(pool: asyncpg.Pool, settings: AuditSettings, args: argparse.Namespace) -> int:
    # With public keys given, the ledger's private key is neither needed nor read.
    trusted = tuple(_pem_key(p) for p in args.public_key)
    producers: Keys = (
        _producer_keys(args.producer_keys) if args.producer_keys else Keyring(keyring_dir(settings))
    )
    queries = _queries(
        pool,
        settings,
        signing_key=None if trusted else _signing_key(settings),
        producer_keys=producers,
    )
    total = await ledger_store.size(pool)
    with tqdm(
        total=total,
        unit=" entries",
        unit_scale=True,
        desc="verifying",
        file=sys.stderr,
        disable=True if args.no_progress else None,  # None: only on a terminal
    ) as bar:
        verified = await queries.verify(VerifyLedger(trusted, witnessed=False), bar.update)
    print(verified.report.summary)
    return 0 if verified.report.intact else 1


async def _export(pool: asyncpg.Pool, settings: AuditSettings, args: argparse.Namespace) -> int:
    queries = _queries(
        pool,
        settings,
        signing_key=_signing_key(settings),
        producer_keys=Keyring(keyring_dir(settings)),
    )
    try:
        exported = await queries.export(ExportRange(args.first, args.last, args.checkpoint))
    except (NotFound, BadRange, Unvouched) as error:
        print(f"cannot export: {error}", file=sys.stderr)
        return 2
    args.out.write_text(json.dumps(exported.bundle, indent=1))
    print(
        f"wrote entries {args.first} to {args.last} with checkpoint "
        f"{exported.bundle['checkpoint']['number']} to {args.out}; check it with "
        f"`offramp-audit check {args.out} --public-key ledger.pem`"
    )
    return 0


async def _history(pool: asyncpg.Pool, settings: AuditSettings, args: argparse.Namespace) -> int:
    queries = _queries(pool, settings, signing_key=None)
    if args.case:
        events = await queries.case_history(CaseHistory(args.case))
    else:
        events = await queries.referral_history(ReferralHistory(args.referral))
    for item in events:
        e = item.event
        print(
            f"{item.seq:>8}  {e.recorded_at:%Y-%m-%d %H:%M:%S}  {e.event_type:<26} "
            f"{e.actor.role}:{e.actor.subject} ({e.actor.agency})"
        )
    return 0 if events else 1


async def _redrive(pool: asyncpg.Pool, settings: AuditSettings, args: argparse.Namespace) -> int:
    nc = await connect_nats(settings.nats_url, "offramp-audit-redrive", nats_identity(settings))
    try:
        last = args.last if args.last is not None else await ledger_store.size(pool)
        with tqdm(
            total=max(0, last - args.first + 1),
            unit=" events",
            desc="re-driving",
            file=sys.stderr,
            disable=True if args.no_progress else None,
        ) as bar:
            sent = await redrive(
                pool,
                nc.jetstream(),
                stream=args.stream,
                subject_root=args.subject_root,
                first=args.first,
                last=last,
                progress=bar.update,
            )
    finally:
        await nc.drain()
    print(f"re-drove {sent} events to stream {args.stream} under {args.subject_root}.>")
    return 0

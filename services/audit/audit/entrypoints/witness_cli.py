"""`offramp-audit witness`: a partner agency's witness, run once per new checkpoint (from cron or
a loop). It needs no database: only the ledger's URL, an auditor token, the ledger's public key
obtained separately, its own Ed25519 key and the state file it keeps between runs."""

import argparse
import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.adapters.signing_key import load_signing_key
from audit.adapters.witness_client import Witnessed, witness_once
from audit.domain.witness import SplitView, witness_vkey

SPLIT_VIEW_EXIT = 3
LogKeyLoader = Callable[[Path], Ed25519PublicKey]


def add_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    witness = commands.add_parser(
        "witness", help="cosign the ledger's latest checkpoint if it extends the last one seen"
    )
    witness.add_argument("--ledger", required=True, help="the audit service's base URL")
    witness.add_argument(
        "--public-key", type=Path, required=True, help="the ledger's public key (PEM), pinned"
    )
    witness.add_argument("--name", required=True, help="this witness's key name, URL-like")
    witness.add_argument(
        "--key", type=Path, required=True, help="this witness's Ed25519 private key (PEM)"
    )
    witness.add_argument("--create-key", action="store_true", help="make the key if missing")
    witness.add_argument("--state", type=Path, required=True, help="the last head cosigned")


def run(args: argparse.Namespace, log_key_of: LogKeyLoader) -> int:
    token = os.environ.get("OFFRAMP_WITNESS_TOKEN")
    if not token:
        print("set OFFRAMP_WITNESS_TOKEN to an auditor's bearer token", file=sys.stderr)
        return 2
    key = load_signing_key(args.key, create=args.create_key)
    # What the ledger's operator adds to OFFRAMP_LEDGER_WITNESS_KEYS to trust this witness.
    print(f"witness verifier key: {witness_vkey(args.name, key.public_key())}", file=sys.stderr)
    headers = {"Authorization": f"Bearer {token}"}

    async def once() -> Witnessed:
        async with httpx.AsyncClient(base_url=args.ledger, headers=headers, timeout=30) as client:
            return await witness_once(
                client, args.state, log_key=log_key_of(args.public_key), name=args.name, key=key
            )

    try:
        witnessed = asyncio.run(once())
        print(witnessed.cosigned_note, end="")
        if witnessed.refused:
            print(
                f"the ledger did not store the cosignature ({witnessed.refused}); until its "
                "operator trusts this witness's verifier key, send the note to the other agencies",
                file=sys.stderr,
            )
    except SplitView as error:
        print(f"{error}\nkeep {args.state} and tell the other agencies", file=sys.stderr)
        return SPLIT_VIEW_EXIT
    except (httpx.HTTPError, LookupError, ValueError) as error:
        print(f"cannot witness: {error}", file=sys.stderr)
        return 1
    return 0

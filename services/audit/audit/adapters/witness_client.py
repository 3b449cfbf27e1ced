"""A witness run once (`offramp-audit witness`): fetch the ledger's latest checkpoint note and
its consistency proof from the last checkpoint this witness cosigned, judge it
(audit.domain.witness), remember the new head, post the cosignature to the ledger, and return
the note with the cosignature line.

The state file is the witness's memory: the one head it cosigned last. Losing it loses the
split-view protection for the next run, so agencies keep it on durable storage.
"""

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit.domain.witness import TreeHead, witness


def _load(state: Path) -> tuple[int, TreeHead] | None:
    if not state.exists():
        return None
    data = json.loads(state.read_text())
    head = TreeHead(data["origin"], int(data["tree_size"]), bytes.fromhex(data["root_hash"]))
    return int(data["checkpoint"]), head


def _save(state: Path, number: int, head: TreeHead) -> None:
    data = {
        "checkpoint": number,
        "origin": head.origin,
        "tree_size": head.tree_size,
        "root_hash": head.root_hash.hex(),
    }
    partial = state.with_suffix(".partial")
    partial.write_text(json.dumps(data))
    partial.replace(state)  # a crash leaves the old head or the new one, never half of either


async def _json(client: httpx.AsyncClient, path: str, **params: int) -> Any:
    response = await client.get(path, params=params)
    response.raise_for_status()
    return response.json()


@dataclass(frozen=True)
class Witnessed:
    # The checkpoint note with this witness's cosignature line added.
    cosigned_note: str
    # Why the ledger did not store the cosignature, if it did not.
    refused: str | None


async def witness_once(
    client: httpx.AsyncClient,
    state: Path,
    *,
    log_key: Ed25519PublicKey,
    name: str,
    key: Ed25519PrivateKey,
) -> Witnessed:
    """The latest checkpoint note, cosigned and posted to the ledger; SplitView if it does not
    extend the last head cosigned (the state is then left as it was)."""
    remembered = _load(state)
    if remembered is None:
        listed = await _json(client, "/ledger/checkpoints")
        if not listed:
            raise LookupError("the ledger has signed no checkpoint yet")
        number, last, proof = int(listed[-1]["number"]), None, []
    else:
        seen, last = remembered
        bundle = await _json(client, "/ledger/proofs/consistency", first=seen)
        number = int(bundle["second"]["number"])
        proof = [bytes.fromhex(p) for p in bundle["consistency_proof"]]
    response = await client.get(f"/ledger/checkpoints/{number}/note")
    response.raise_for_status()
    note = response.text
    head, line = witness(
        last, note, proof, log_key=log_key, name=name, key=key, timestamp=int(time.time())
    )
    _save(state, number, head)
    # The ledger keeps it and serves it beneath the note, or refuses (422) a witness it does
    # not trust yet: the cosignature stands either way, the agencies can exchange the note.
    posted = await client.post(
        f"/ledger/checkpoints/{number}/cosignatures", json={"cosignature": line}
    )
    refused = None
    if posted.status_code != 201:
        problem = posted.text
        if "json" in posted.headers.get("content-type", ""):
            problem = str(posted.json().get("detail", problem))
        refused = f"{posted.status_code}: {problem}"
    return Witnessed(note + line, refused)

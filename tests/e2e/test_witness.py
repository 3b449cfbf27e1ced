"""A partner agency's witness against the running ledger: it cosigns a growing ledger, and
refuses, loudly, a checkpoint that does not extend the history it already cosigned."""

import asyncio
import base64
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.adapters.witness_client import witness_once
from audit.domain.checkpoint import public_key_from_hex, raw_public_key
from audit.domain.witness import SplitView, witness_vkey
from tests.conftest import System, wait_for
from tests.referrals import fresh_key, referral_body

NAME = "prosecutor.county.example/witness"
WITNESS = Ed25519PrivateKey.generate()


DEFENDER_NAME = "defender.county.example/witness"
DEFENDER = Ed25519PrivateKey.generate()


@pytest.fixture(autouse=True)
def checkpoint_often(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OFFRAMP_CHECKPOINT_EVERY_ENTRIES", "3")
    # The two agencies' witnesses the ledger trusts; both must cosign a checkpoint.
    trusted = [
        witness_vkey(NAME, WITNESS.public_key()),
        witness_vkey(DEFENDER_NAME, DEFENDER.public_key()),
    ]
    monkeypatch.setenv("OFFRAMP_LEDGER_WITNESS_KEYS", json.dumps(trusted))
    monkeypatch.setenv("OFFRAMP_LEDGER_WITNESS_QUORUM", "2")


async def cosigners(system: System, checkpoint: int) -> dict[str, Any]:
    auditor = system.token(sub="auditor-7", role="auditor", agency="county-audit")
    async with system.client("audit", auditor) as audit:
        response = await audit.get(f"/ledger/checkpoints/{checkpoint}/cosignatures")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def refer_and_wait_for_checkpoint(system: System, at_least: int) -> None:
    officer = system.token(sub="officer-6", role="officer", agency="pontiac-pd")
    async with system.client("intake", officer) as intake:
        made = await intake.post(
            "/referrals", json=referral_body("social_contact"), headers=fresh_key()
        )
    assert made.status_code == 201, made.text
    auditor = system.token(sub="auditor-6", role="auditor", agency="county-audit")

    async def signed() -> Any:
        async with system.client("audit", auditor) as audit:
            listed = (await audit.get("/ledger/checkpoints")).json()
        return listed if len(listed) >= at_least else None

    await wait_for(signed, timeout=60, what=f"checkpoint {at_least}")


async def run_witness(system: System, state: Path) -> str:
    async with system.client("audit") as anyone:
        log_key = public_key_from_hex(
            (await anyone.get("/ledger/public-key")).json()["public_key_hex"]
        )
    auditor = system.token(sub="witness-1", role="auditor", agency="county-prosecutor")
    async with system.client("audit", auditor) as audit:
        witnessed = await witness_once(audit, state, log_key=log_key, name=NAME, key=WITNESS)
    assert witnessed.refused is None
    return witnessed.cosigned_note


def cosigned_size(cosigned: str) -> int:
    """Checks the witness's line from c2sp.org/tlog-cosignature's text; the tree size signed."""
    text, _, lines = cosigned.rpartition("\n\n")
    line = lines.rstrip("\n").split("\n")[-1]
    dash, name, encoded = line.split(" ")
    blob = base64.b64decode(encoded)
    raw = raw_public_key(WITNESS.public_key())
    assert (dash, name) == ("\u2014", NAME)
    assert blob[:4] == hashlib.sha256(NAME.encode() + b"\n\x04" + raw).digest()[:4]
    timestamp = int.from_bytes(blob[4:12], "big")
    message = f"cosignature/v1\ntime {timestamp}\n{text}\n".encode()
    WITNESS.public_key().verify(blob[12:], message)
    return int(text.split("\n")[1])


async def test_the_witness_cosigns_a_growing_ledger_and_refuses_a_fork(
    system: System, tmp_path: Path
) -> None:
    state = tmp_path / "witness-state.json"
    await refer_and_wait_for_checkpoint(system, 1)
    first = cosigned_size(await run_witness(system, state))
    remembered = json.loads(state.read_text())
    # The ledger took the cosignature: one of the two its quorum needs.
    witnessed = await cosigners(system, remembered["checkpoint"])
    assert witnessed == {
        "checkpoint": remembered["checkpoint"],
        "quorum": 2,
        "trusted_witnesses": 2,
        "cosigned_by": [NAME],
        "quorum_met": False,
    }

    auditor = system.token(sub="auditor-7", role="auditor", agency="county-audit")
    async with system.client("audit", auditor) as audit:
        verified = (await audit.get("/ledger/verify")).json()
    assert (verified["witness_quorum"], verified["witnessed_through"]) == (2, None)

    await refer_and_wait_for_checkpoint(system, remembered["checkpoint"] + 1)
    second = cosigned_size(await run_witness(system, state))
    assert second > first
    assert json.loads(state.read_text())["tree_size"] == second

    # The witness had been shown another history at that size (a split view): the ledger's
    # real next checkpoint cannot be proven to extend it.
    forked = {**json.loads(state.read_text()), "root_hash": hashlib.sha256(b"fork").hexdigest()}
    state.write_text(json.dumps(forked))
    await refer_and_wait_for_checkpoint(system, forked["checkpoint"] + 1)
    with pytest.raises(SplitView, match="SPLIT VIEW"):
        await run_witness(system, state)
    assert json.loads(state.read_text()) == forked


def offramp_audit_witness(system: System, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """The command an agency runs, as a process of its own with nothing but its arguments."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OFFRAMP_")}
    env["OFFRAMP_WITNESS_TOKEN"] = system.token(
        sub="witness-2", role="auditor", agency="public-defender"
    )
    key = tmp_path / "witness.pem"
    if not key.exists():  # the defender's key, which the ledger trusts
        key.write_bytes(
            DEFENDER.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    command = [
        sys.executable, "-m", "audit.entrypoints.cli", "witness",
        "--ledger", system.url("audit"),
        "--public-key", str(tmp_path / "ledger.pem"),
        "--name", "defender.county.example/witness",
        "--key", str(tmp_path / "witness.pem"), "--create-key",
        "--state", str(tmp_path / "state.json"),
    ]  # fmt: skip
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=90)


async def test_the_witness_command_cosigns_and_exits_3_on_a_split_view(
    system: System, tmp_path: Path
) -> None:
    async with system.client("audit") as anyone:
        pem = (await anyone.get("/ledger/public-key")).json()["public_key_pem"]
    (tmp_path / "ledger.pem").write_text(pem)
    await refer_and_wait_for_checkpoint(system, 1)

    done = await asyncio.to_thread(offramp_audit_witness, system, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "\n\u2014 defender.county.example/witness " in done.stdout
    assert witness_vkey(DEFENDER_NAME, DEFENDER.public_key()) in done.stderr
    assert "did not store" not in done.stderr
    cosigned = json.loads((tmp_path / "state.json").read_text())["checkpoint"]
    assert (await cosigners(system, cosigned))["cosigned_by"] == [DEFENDER_NAME]

    state = tmp_path / "state.json"
    forked = {**json.loads(state.read_text()), "root_hash": hashlib.sha256(b"fork").hexdigest()}
    state.write_text(json.dumps(forked))
    refused = await asyncio.to_thread(offramp_audit_witness, system, tmp_path)
    assert refused.returncode == 3, refused.stderr
    assert "SPLIT VIEW" in refused.stderr
    assert refused.stdout == ""

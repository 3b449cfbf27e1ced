"""The ledger's checkpoints as C2SP signed notes, checked by a verifier written here from the
specifications' text (c2sp.org/signed-note, c2sp.org/tlog-checkpoint), not from the project's
signing code: what a witness or monitor of the transparency-log ecosystem would do with them."""

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.domain.bundle import check_bundle
from audit.domain.checkpoint import public_key_from_hex
from tests.conftest import System, wait_for
from tests.referrals import fresh_key, referral_body

EM_DASH = "\u2014"


@pytest.fixture(autouse=True)
def checkpoint_often(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OFFRAMP_CHECKPOINT_EVERY_ENTRIES", "3")


class Rejected(Exception):
    """The note does not verify; the message says why."""


@dataclass(frozen=True)
class VerifierKey:
    name: str
    key_id: bytes
    key: Ed25519PublicKey


def parse_vkey(vkey: str) -> VerifierKey:
    """`<name>+hex(key ID)+base64(signature type || public key)`, Ed25519 (type 0x01) only."""
    # Name and ID hold no plus; base64 may.
    name, hex_id, material = vkey.split("+", 2)
    raw = base64.b64decode(material, validate=True)
    if raw[:1] != b"\x01" or len(raw) != 33:
        raise Rejected("not an Ed25519 verifier key")
    expected = hashlib.sha256(name.encode() + b"\x0a" + raw).digest()[:4]
    if bytes.fromhex(hex_id) != expected:
        raise Rejected("the verifier key's ID is not the hash of its name and key")
    return VerifierKey(name, expected, Ed25519PublicKey.from_public_bytes(raw[1:]))


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    tree_size: int
    root_hash: bytes


def verify_note(note: bytes, vkey: VerifierKey) -> str:
    """The note's text, once a signature by `vkey` over it verifies."""
    text = note.decode("utf-8")  # signed notes MUST be valid UTF-8
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise Rejected("control characters other than newline")
    # The text ends in a newline and is separated from the signatures by the last blank line.
    cut = text.rfind("\n\n")
    if cut < 0:
        raise Rejected("no blank line before the signatures")
    body, signatures = text[: cut + 1], text[cut + 2 :]
    if not signatures.endswith("\n"):
        raise Rejected("signature lines end in newline")
    verified = False
    for line in signatures[:-1].split("\n"):
        dash, name, encoded = line.split(" ")
        if dash != EM_DASH:
            raise Rejected(f"not a signature line: {line!r}")
        signature = base64.b64decode(encoded, validate=True)
        if name != vkey.name or signature[:4] != vkey.key_id:
            continue  # unknown keys are ignored
        try:
            vkey.key.verify(signature[4:], body.encode())
        except InvalidSignature as error:
            raise Rejected("the known key's signature does not verify") from error
        verified = True
    if not verified:
        raise Rejected("no signature by the known key")
    return body


def verify_checkpoint(note: bytes, vkey: VerifierKey) -> Checkpoint:
    lines = verify_note(note, vkey)[:-1].split("\n")
    if len(lines) < 3 or not all(lines):
        raise Rejected("a checkpoint is at least three non-empty lines")
    origin, size, root = lines[:3]
    if not size.isdigit() or (size != "0" and size.startswith("0")):
        raise Rejected("the tree size is decimal without leading zeroes")
    return Checkpoint(origin, int(size), base64.b64decode(root, validate=True))


def test_the_verifier_accepts_the_specifications_own_example() -> None:
    """The vkey and note of c2sp.org/signed-note's example, so the verifier is known good
    before it judges the ledger."""
    vkey = parse_vkey("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
    note = (
        "This is an example message.\n\n"
        f"{EM_DASH} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1"
        "ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
    )
    assert verify_note(note.encode(), vkey) == "This is an example message.\n"
    with pytest.raises(Rejected):
        verify_note(note.replace("example message", "altered message").encode(), vkey)


async def auditor_get(system: System, path: str, **params: Any) -> Any:
    auditor = system.token(sub="auditor-5", role="auditor", agency="county-audit")
    async with system.client("audit", auditor) as audit:
        return await audit.get(path, params=params)


async def first_checkpoint(system: System) -> dict[str, Any]:
    officer = system.token(sub="officer-4", role="officer", agency="pontiac-pd")
    async with system.client("intake", officer) as intake:
        made = await intake.post(
            "/referrals", json=referral_body("social_contact"), headers=fresh_key()
        )
    assert made.status_code == 201, made.text

    async def signed() -> Any:
        response = await auditor_get(system, "/ledger/checkpoints")
        return response.json()[0] if response.json() else None

    checkpoint: dict[str, Any] = await wait_for(signed, timeout=60, what="a signed checkpoint")
    return checkpoint


async def pinned_vkey(system: System) -> tuple[str, VerifierKey]:
    async with system.client("audit") as anyone:
        served = (await anyone.get("/ledger/public-key")).json()
    return served["note_origin"], parse_vkey(served["note_verifier_key"])


async def test_a_checkpoint_note_verifies_with_the_published_key_and_matches_the_checkpoint(
    system: System,
) -> None:
    checkpoint = await first_checkpoint(system)
    origin, vkey = await pinned_vkey(system)
    assert origin == vkey.name == "offramp.county.ledger"
    # The vkey is the same Ed25519 key the Offramp checkpoints are signed with.
    async with system.client("audit") as anyone:
        served = (await anyone.get("/ledger/public-key")).json()
    assert (
        base64.b64decode(served["note_verifier_key"].split("+", 2)[2])[1:].hex()
        == (served["public_key_hex"])
    )

    response = await auditor_get(system, f"/ledger/checkpoints/{checkpoint['number']}/note")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    note = verify_checkpoint(response.content, vkey)
    assert note == Checkpoint(
        origin, checkpoint["tree_size"], bytes.fromhex(checkpoint["root_hash"])
    )
    # Deterministic: asked again, the same bytes.
    again = await auditor_get(system, f"/ledger/checkpoints/{checkpoint['number']}/note")
    assert again.content == response.content

    # Exports carry the note beside the Offramp checkpoint it restates.
    export = await auditor_get(
        system, "/ledger/export", first=1, last=1, checkpoint=checkpoint["number"]
    )
    assert export.status_code == 200, export.text
    bundle = export.json()
    assert bundle["checkpoint_note"].encode() == response.content
    inclusion = await auditor_get(
        system, "/ledger/proofs/inclusion", seq=1, checkpoint=checkpoint["number"]
    )
    assert inclusion.json()["checkpoint_note"].encode() == response.content
    # `offramp-audit check` checks the note too, and still reads exports made before notes.
    pinned = public_key_from_hex(served["public_key_hex"])
    assert check_bundle(bundle, pinned).ok
    older = {k: v for k, v in bundle.items() if k != "checkpoint_note"}
    assert check_bundle(older, pinned).ok
    other_root = base64.b64encode(hashlib.sha256(b"x").digest()).decode()
    lines = bundle["checkpoint_note"].split("\n")
    altered = "\n".join([*lines[:2], other_root, *lines[3:]])
    problems = check_bundle({**bundle, "checkpoint_note": altered}, pinned).problems
    assert problems == [
        f"the checkpoint note does not restate checkpoint {checkpoint['number']}: "
        "its tree size or root differs"
    ]


@pytest.mark.parametrize(
    "tamper",
    ["tree size", "root hash", "origin", "signature", "key ID"],
)
async def test_a_tampered_note_is_rejected(system: System, tamper: str) -> None:
    checkpoint = await first_checkpoint(system)
    _, vkey = await pinned_vkey(system)
    note = (await auditor_get(system, f"/ledger/checkpoints/{checkpoint['number']}/note")).text
    body, signature_line = note.split("\n\n")
    origin, size, root = body.split("\n")
    dash, name, encoded = signature_line.rstrip("\n").split(" ")
    signature = base64.b64decode(encoded)
    if tamper == "tree size":
        body = f"{origin}\n{int(size) + 1}\n{root}"
    elif tamper == "root hash":
        body = f"{origin}\n{size}\n{base64.b64encode(hashlib.sha256(b'x').digest()).decode()}"
    elif tamper == "origin":
        body = f"offramp.elsewhere.ledger\n{size}\n{root}"
    elif tamper == "signature":
        encoded = base64.b64encode(signature[:-1] + bytes([signature[-1] ^ 1])).decode()
    else:  # a key ID of another key: the signature is then ignored, and none is left
        encoded = base64.b64encode(b"\0\0\0\0" + signature[4:]).decode()
    forged = f"{body}\n\n{dash} {name} {encoded}\n"
    with pytest.raises(Rejected):
        verify_checkpoint(forged.encode(), vkey)


async def test_the_ledger_issues_no_note_for_a_checkpoint_altered_in_the_database(
    system: System, admin_db: asyncpg.Connection
) -> None:
    checkpoint = await first_checkpoint(system)
    async with admin_db.transaction():
        await admin_db.execute("ALTER TABLE audit.checkpoints DISABLE TRIGGER USER")
        await admin_db.execute(
            "UPDATE audit.checkpoints SET root_hash = $1 WHERE number = $2",
            hashlib.sha256(b"another history").hexdigest(),
            checkpoint["number"],
        )
        await admin_db.execute("ALTER TABLE audit.checkpoints ENABLE TRIGGER USER")

    response = await auditor_get(system, f"/ledger/checkpoints/{checkpoint['number']}/note")
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "altered or forged" in response.json()["detail"]
    export = await auditor_get(
        system, "/ledger/export", first=1, last=1, checkpoint=checkpoint["number"]
    )
    assert export.status_code == 409, export.text

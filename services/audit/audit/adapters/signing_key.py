"""The checkpoint signing key on disk."""

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from servicekit.log import get_logger

log = get_logger(__name__)


class SigningKeyMissing(RuntimeError):
    pass


def load_signing_key(path: Path, *, create: bool) -> Ed25519PrivateKey:
    """The key at `path`; with `create`, a new one is made there if none exists yet.

    Unlike the local token issuer's key, creation can be refused: in production a new
    signing key is a new ledger identity that no partner trusts, so a missing key must stop
    the service rather than be replaced.
    """
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key")
        return key
    if not create:
        raise SigningKeyMissing(
            f"no checkpoint signing key at {path}; restore it, or point "
            "OFFRAMP_LEDGER_SIGNING_KEY_PATH at it"
        )
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # Written aside, readable by its owner only, then linked into place: link refuses to
    # replace an existing file, so two replicas starting together end up sharing one key, and
    # neither ever reads a half-written one.
    spare = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(spare, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    try:
        os.link(spare, path)
    except FileExistsError:
        return load_signing_key(path, create=False)
    finally:
        spare.unlink()
    log.warning("created a development checkpoint signing key", path=str(path))
    return key


def public_key_pem(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )

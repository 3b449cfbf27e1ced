"""The checkpoint signing key on disk."""

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from servicekit.event_keys import create_private_key, read_private_key
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
        return read_private_key(path)
    if not create:
        raise SigningKeyMissing(
            f"no checkpoint signing key at {path}; restore it, or point "
            "OFFRAMP_LEDGER_SIGNING_KEY_PATH at it"
        )
    key = create_private_key(path)
    log.warning("created a development checkpoint signing key", path=str(path))
    return key


def public_key_pem(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )

"""The event signing keys on disk: each service's private key, and the keyring of every
producer's public keys that consumers and the ledger trust.

A keyring is a directory of `<key id>.pub.json` files ({key_id, producer, public_key}), one per
key: a rotation adds a file and never removes one, so events signed by a retired key stay
verifiable. Production mounts the keyring read-only and gives each service its private key
(`OFFRAMP_EVENT_SIGNING_KEY_PATH`, `OFFRAMP_EVENT_SIGNING_KEY_CREATE=false`); the embedded
default creates both beside the local token issuer's key, each service adding its own public
key to the keyring on first start.
"""

import json
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from servicekit.log import get_logger
from servicekit.provenance import EventSigner, ProducerKey
from servicekit.settings import ServiceSettings

log = get_logger(__name__)


class EventKeyMissing(RuntimeError):
    pass


def keyring_dir(settings: ServiceSettings) -> Path:
    if settings.event_keyring_dir is not None:
        return settings.event_keyring_dir
    if settings.auth_local_key_path is not None:
        return settings.auth_local_key_path.parent / "event-keys"
    raise EventKeyMissing(
        "no event keyring configured: set OFFRAMP_EVENT_KEYRING_DIR to the directory of the "
        "producers' public keys (<key id>.pub.json)"
    )


def signing_key_path(settings: ServiceSettings) -> Path:
    if settings.event_signing_key_path is not None:
        return settings.event_signing_key_path
    if settings.auth_local_key_path is not None:
        return keyring_dir(settings) / f"{settings.service_name}.pem"
    raise EventKeyMissing(
        f"no event signing key configured for {settings.service_name}: set "
        "OFFRAMP_EVENT_SIGNING_KEY_PATH to its Ed25519 private key (PKCS#8 PEM)"
    )


def event_signer(settings: ServiceSettings) -> EventSigner:
    """The service's signer; in the embedded default, created on first use and its public key
    added to the keyring. A missing key with creation off stops the service: a new key would
    be a new identity no consumer trusts."""
    path = signing_key_path(settings)
    if path.exists():
        signer = EventSigner(settings.service_name, read_private_key(path))
    elif settings.event_signing_key_create:
        signer = EventSigner(settings.service_name, create_private_key(path))
        log.warning("created a development event signing key", path=str(path))
    else:
        raise EventKeyMissing(
            f"no event signing key at {path} for {settings.service_name}; restore it, or point "
            "OFFRAMP_EVENT_SIGNING_KEY_PATH at it"
        )
    ring = keyring_dir(settings)
    if settings.event_signing_key_create:
        add_to_keyring(ring, signer.public)
    elif Keyring(ring).get(signer.key_id) is None:
        log.error(
            "this service's event key is not in the keyring: consumers will park its events",
            key_id=signer.key_id,
            keyring=str(ring),
        )
    return signer


def rotate_signing_key(settings: ServiceSettings) -> EventSigner:
    """A new key for the service, its public half added to the keyring beside the old one's;
    the old private key is kept aside as `<name>.<key id>.retired`."""
    path = signing_key_path(settings)
    if path.exists():
        old = EventSigner(settings.service_name, read_private_key(path))
        path.rename(path.with_name(f"{path.name}.{old.key_id}.retired"))
    signer = EventSigner(settings.service_name, create_private_key(path))
    add_to_keyring(keyring_dir(settings), signer.public)
    return signer


def add_to_keyring(directory: Path, key: ProducerKey) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{key.key_id}.pub.json"
    if target.exists():
        return
    spare = directory / f".{key.key_id}.{os.getpid()}.tmp"
    spare.write_text(json.dumps(key.to_json(), indent=2) + "\n")
    spare.replace(target)


class Keyring:
    """The producers' public keys in a keyring directory, read again whenever an unknown key id
    comes: a producer that started (or rotated) after this consumer must not have its first
    events parked. Only the bus's authenticated users can send a key id at all, and a keyring
    is a handful of small files, so reading it again is cheap."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._keys: dict[str, ProducerKey] = {}
        self.reload()

    def reload(self) -> None:
        keys: dict[str, ProducerKey] = {}
        for path in sorted(self.directory.glob("*.pub.json")):
            try:
                key = ProducerKey.from_json(json.loads(path.read_text()))
            except (OSError, ValueError, KeyError) as error:
                log.error("unreadable key in the keyring", path=str(path), error=repr(error))
                continue
            keys[key.key_id] = key
        self._keys = keys

    def get(self, key_id: str) -> ProducerKey | None:
        key = self._keys.get(key_id)
        if key is None:
            self.reload()
            key = self._keys.get(key_id)
        return key

    def keys(self) -> list[ProducerKey]:
        return sorted(self._keys.values(), key=lambda k: k.key_id)


def read_private_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def create_private_key(path: Path) -> Ed25519PrivateKey:
    """A new Ed25519 key at `path`, or the one another process put there first."""
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # Written aside, owner-only, then linked into place: two replicas starting together end up
    # sharing one key, and neither reads a half-written file.
    spare = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(spare, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    try:
        os.link(spare, path)
    except FileExistsError:
        return read_private_key(path)
    finally:
        spare.unlink()
    return key

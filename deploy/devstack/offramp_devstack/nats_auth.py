"""The bus's users and what each may do: one NKEY user per service, allowed to publish only its
own context's subjects and to use the JetStream API of its stream, plus an `admin` user for
operators and tests. No anonymous connections: a server with users refuses any client without
one.

This is the one place that knows the server's authorization: `authorization(...)` returns the
block that `natscluster.nats_config` puts into every nats-server configuration of the system
(the single dev server and a cluster's nodes alike).
"""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nkeys

from offramp_contracts.provenance import PRODUCERS, publishable_subjects

ADMIN = "admin"
USERS: tuple[str, ...] = (*PRODUCERS, ADMIN)


@dataclass(frozen=True)
class NatsUser:
    name: str
    seed_path: Path  # the NKEY seed, the user's secret (what OFFRAMP_NATS_NKEY_SEED_PATH names)
    public_key: str  # `U...`, what the server's configuration names


def seed_path(credentials_dir: Path, user: str) -> Path:
    return credentials_dir / f"{user}.nk"


def ensure_credentials(credentials_dir: Path, users: tuple[str, ...] = USERS) -> list[NatsUser]:
    """An NKEY per user under `credentials_dir`, created once and kept: restarting the server
    (or the dev stack) must not change who the services are."""
    credentials_dir.mkdir(parents=True, exist_ok=True)
    made: list[NatsUser] = []
    for user in users:
        path = seed_path(credentials_dir, user)
        if not path.exists():
            seed = nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(seed)
        public = nkeys.from_seed(path.read_bytes().strip()).public_key.decode()
        made.append(NatsUser(user, path, public))
    return made


def service_permissions(service: str, *, subject_root: str, stream: str) -> dict[str, Any]:
    """What `service` may do on the bus. Subjects: only its own context's (and the access events
    every service records). JetStream: its stream's API only, never another stream's, never
    stream deletion or purge; the ledger writer alone re-creates its durable (delete). Core
    subscriptions: only replies (`_INBOX.>`), where pull consumers receive their messages, so no
    service can listen in on subjects outside the consumers JetStream gives it."""
    api = f"$JS.API.CONSUMER.%s.{stream}.>"
    publish = [
        *publishable_subjects(service, subject_root),
        f"$JS.API.STREAM.CREATE.{stream}",
        f"$JS.API.STREAM.UPDATE.{stream}",
        f"$JS.API.STREAM.INFO.{stream}",
        api % "CREATE",
        api % "DURABLE.CREATE",
        api % "INFO",
        api % "MSG.NEXT",
        f"$JS.ACK.{stream}.>",
    ]
    if service == "audit":
        publish.append(api % "DELETE")
    return {"publish": {"allow": publish}, "subscribe": {"allow": ["_INBOX.>"]}}


def authorization(
    credentials_dir: Path, *, subject_root: str = "lead", stream: str = "LEAD"
) -> dict[str, Any]:
    """The `authorization` block of a nats-server configuration. Tests, whose every run has its
    own root and stream, pass `*` for both."""
    users: list[dict[str, Any]] = []
    for user in ensure_credentials(credentials_dir):
        if user.name == ADMIN:
            permissions: dict[str, Any] = {
                "publish": {"allow": [">"]},
                "subscribe": {"allow": [">"]},
            }
        else:
            permissions = service_permissions(user.name, subject_root=subject_root, stream=stream)
        users.append({"nkey": user.public_key, "permissions": permissions})
    return {"users": users}

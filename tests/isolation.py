"""The session's real servers and the names that keep one test's system apart from every other
test's, as the root conftest.py's `servers` and `isolation` fixtures give them; typed here so that
tests can name the fixtures' types."""

from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from offramp_devstack import Nats, Postgres, Temporal


@dataclass(frozen=True)
class Servers:
    postgres: Postgres
    nats: Nats
    temporal: Temporal


class ServiceFields(TypedDict, total=False):
    """The settings every service takes that a test sets, as keyword arguments for a service's
    settings class; a caller gives the ones it needs and adds its service's own."""

    database_url: str
    nats_url: str
    nats_credentials_dir: Path
    subject_root: str
    stream_name: str
    stream_duplicate_window_seconds: int
    temporal_address: str
    temporal_task_queue: str
    auth_local_key_path: Path
    profiles_dir: Path
    http_port: int
    http_rate_limit: str


@dataclass(frozen=True)
class Isolation:
    """The names that keep one test's system apart from every other test's."""

    database_url: str
    subject_root: str
    stream_name: str
    task_queue: str
    key_path: Path
    profiles_dir: Path

    def settings(self, servers: Servers) -> ServiceFields:
        return {
            "database_url": self.database_url,
            "nats_url": servers.nats.url,
            "nats_credentials_dir": servers.nats.credentials_dir,
            "subject_root": self.subject_root,
            "stream_name": self.stream_name,
            "stream_duplicate_window_seconds": 120,
            "temporal_address": servers.temporal.address,
            "temporal_task_queue": self.task_queue,
            "auth_local_key_path": self.key_path,
            "profiles_dir": self.profiles_dir,
            "http_port": 0,
            # Tests wait on conditions by polling one route as one caller every 50 ms, faster
            # than any person; the rate limit itself is tested with its own low setting
            # (tests/edge/test_flood.py).
            "http_rate_limit": "100000/minute",
        }

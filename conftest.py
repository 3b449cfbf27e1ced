"""Session fixtures for every test in the repository: real PostgreSQL, NATS JetStream and
Temporal, started once from their PyPI packages on free ports; each test then gets its own
database, its own subject root and stream, and its own task queue, so tests never see each
other's data."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from uuid import uuid4

import asyncpg
import nats
import pytest
from hypothesis import settings
from nats.aio.client import Client as NATS

from offramp_devstack import (
    free_ports,
    start_nats,
    start_postgres,
    start_temporal,
)
from tests.isolation import Isolation, Servers
from tests.profiles import SHIPPED_PROFILES

# Properties are judged by what they find, not by how long an example took: the tests share two
# cores with their servers, and Hypothesis' 200 ms deadline then fails a correct property.
settings.register_profile("offramp", deadline=None)
settings.load_profile("offramp")

# The longest files first: `make test` hands whole files to two workers in collection order, and
# the scale suite, collected last, left one worker running it alone at the end of the run.
LONGEST_FIRST = (
    "tests/scale/test_scale.py",
    "tests/operations/test_readme.py",
    "tests/faults/test_faults.py",
    "tests/access/test_role_matrix.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: every file keeps its own order


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    base = tmp_path_factory.mktemp("servers")
    pg_port, nats_port, monitor_port, temporal_port, ui_port = free_ports(5)
    postgres = start_postgres(base / "postgres", pg_port, base / "postgres.log")
    # Every test has its own subject root and stream: the users' permissions name any.
    bus = start_nats(
        base / "nats", nats_port, monitor_port, base / "nats.log", subject_root="*", stream="*"
    )
    temporal = start_temporal(
        base / "temporal.db", temporal_port, ui_port, base / "temporal.log", headless=True
    )
    try:
        yield Servers(postgres, bus, temporal)
    finally:
        for server in (temporal.server, bus.server, postgres.server):
            server.stop()


@pytest.fixture
def profiles_dir() -> Path:
    """The site profiles a test's services load. A test module overrides this fixture (with
    `customised_profiles`) to shorten durations to seconds or change a site's policy."""
    return SHIPPED_PROFILES


@pytest.fixture
async def isolation(servers: Servers, tmp_path: Path, profiles_dir: Path) -> Isolation:
    tag = uuid4().hex[:12]
    database_url = await servers.postgres.create_database(f"t_{tag}")
    return Isolation(
        database_url=database_url,
        subject_root=f"t{tag}",
        stream_name=f"T{tag}",
        task_queue=f"casework-{tag}",
        key_path=tmp_path / "local-issuer.pem",
        profiles_dir=profiles_dir,
    )


@pytest.fixture
async def nats_client(servers: Servers) -> AsyncIterator[NATS]:
    client = await nats.connect(servers.nats.url, **servers.nats.connect_options())
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def admin_db(isolation: Isolation) -> AsyncIterator[asyncpg.Connection]:
    """A plain connection to the test's database, for looking at what services stored."""
    conn = await asyncpg.connect(isolation.database_url)
    try:
        yield conn
    finally:
        await conn.close()

"""Start and stop real PostgreSQL, NATS JetStream and Temporal dev servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import concurrent.futures
import signal
import subprocess
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

from offramp_devstack import nats_auth
from offramp_devstack._pg import initdb_if_needed, pg_binary, pg_system_user, prepare_data_dir
from offramp_devstack._proc import (
    ServerFailedToStart,
    ServerProcess,
    find_binary,
    spawn,
    tcp_connects,
    wait_until_ready,
)
from offramp_devstack.natscluster import NatsNode, start_nats_node

__all__ = [
    "Nats",
    "Postgres",
    "ServerFailedToStart",
    "ServerProcess",
    "Temporal",
    "start_nats",
    "start_postgres",
    "start_temporal",
]

T = TypeVar("T")


def _run_coroutine(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion from sync code, even if the caller already runs an event loop.

    Starters are sync so they work in plain and async fixtures alike; a fresh
    loop in a worker thread avoids "asyncio.run() cannot be called from a
    running event loop".
    """

    async def main() -> T:
        return await factory()

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


# --------------------------------------------------------------------- Postgres


@dataclass
class Postgres:
    server: ServerProcess
    port: int

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{quote(database, safe='')}"

    async def create_database(self, name: str) -> str:
        """Create database `name` if missing and return its DSN."""
        import asyncpg

        conn = await asyncpg.connect(self.dsn(), timeout=10)
        try:
            # CREATE DATABASE takes no bind parameters; quote the identifier.
            ident = '"' + name.replace('"', '""') + '"'
            await conn.execute(f"CREATE DATABASE {ident}")
        except asyncpg.exceptions.DuplicateDatabaseError:
            pass
        finally:
            await conn.close()
        return self.dsn(name)


def _postmaster_ready(data_dir: Path, pid: int) -> bool:
    """True once postmaster.pid names *our* process and says "ready".

    This is the file pg_ctl -w polls; checking the pid guards against a stale
    file from a killed run, or another postmaster answering on the port.
    """
    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        return False
    return len(lines) >= 8 and lines[0].strip() == str(pid) and lines[7].strip() == "ready"


def _select_one(dsn: str) -> bool:
    import asyncpg

    async def probe() -> bool:
        conn = await asyncpg.connect(dsn, timeout=2)
        try:
            return bool(await conn.fetchval("SELECT 1") == 1)
        finally:
            await conn.close()

    try:
        return _run_coroutine(probe)
    except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return False


def start_postgres(data_dir: Path, port: int, log_path: Path, timeout: float = 60) -> Postgres:
    """Start postgres on 127.0.0.1:`port` with data in `data_dir`, running initdb only if it is empty."""
    data_dir = data_dir.resolve()
    log_path = log_path.resolve()
    user = pg_system_user()
    prepare_data_dir(data_dir, user)
    initdb_if_needed(data_dir, log_path, user, timeout)
    argv = [
        pg_binary("postgres"),
        "-D", str(data_dir),
        "-p", str(port),
        "-h", "127.0.0.1",
        # No unix socket: data dirs under deep pytest tmp paths overflow the
        # 107-byte sun_path limit, and everything connects over TCP anyway.
        "-c", "unix_socket_directories=",
    ]  # fmt: skip
    # Running the postmaster directly (not pg_ctl, which daemonizes) keeps its
    # pid in our Popen, so stop()/kill() need no pidfile.
    server = spawn("postgres", argv, log_path, user=user, stop_signal=signal.SIGINT, cwd=data_dir)
    pg = Postgres(server=server, port=port)
    wait_until_ready(
        server, lambda: _postmaster_ready(data_dir, server.pid) and _select_one(pg.dsn()), timeout
    )
    return pg


# ------------------------------------------------------------------------- NATS


@dataclass
class Nats:
    server: ServerProcess
    port: int
    monitor_port: int
    # The users' NKEY seeds (`nats_auth`): `<user>.nk`, one per service and `admin`.
    credentials_dir: Path

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def monitor_url(self) -> str:
        return f"http://127.0.0.1:{self.monitor_port}"

    @property
    def servers(self) -> list[str]:
        """What `nats.connect` takes (a cluster's lists every node)."""
        return [self.url]

    def seed(self, user: str = nats_auth.ADMIN) -> Path:
        return nats_auth.seed_path(self.credentials_dir, user)

    def connect_options(self, user: str = nats_auth.ADMIN) -> dict[str, str]:
        """`nats.connect(nats.servers, **nats.connect_options())`: as `user` (admin by default)."""
        return {"nkeys_seed": str(self.seed(user))}


def start_nats(
    store_dir: Path,
    port: int,
    monitor_port: int,
    log_path: Path,
    timeout: float = 30,
    *,
    subject_root: str = "lead",
    stream: str = "LEAD",
) -> Nats:
    """Start a lone nats-server with JetStream, storing streams under `store_dir`, configured
    by `nats_config` as every node of a cluster is, with the users `nats_auth` says and their
    seeds beside it in `<store_dir>-credentials/` (kept across restarts). Tests, which give
    every run its own subject root and stream, pass `*` for both."""
    store_dir = store_dir.resolve()
    credentials_dir = store_dir.with_name(f"{store_dir.name}-credentials")
    node = NatsNode("nats", port, monitor_port)
    authorization = nats_auth.authorization(
        credentials_dir, subject_root=subject_root, stream=stream
    )
    server = start_nats_node(
        node, store_dir, log_path, timeout=timeout, authorization=authorization
    )
    return Nats(
        server=server, port=port, monitor_port=monitor_port, credentials_dir=credentials_dir
    )


# --------------------------------------------------------------------- Temporal


@dataclass
class Temporal:
    server: ServerProcess
    port: int
    ui_port: int

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.ui_port}"


def _temporal_answers(temporal_bin: str, port: int) -> bool:
    if not tcp_connects(port):
        return False
    # The gRPC port accepts before the frontend serves; describing the
    # "default" namespace (created at startup) proves the whole path works.
    # Config file/env are disabled so a developer's TEMPORAL_* settings (TLS,
    # API key, profile) cannot break the probe.
    argv = [
        temporal_bin, "operator", "namespace", "describe",
        "--address", f"127.0.0.1:{port}",
        "--namespace", "default",
        "--disable-config-file", "--disable-config-env",
        "--command-timeout", "3s",
        "--output", "json",
    ]  # fmt: skip
    try:
        result = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0


def start_temporal(
    db_file: Path,
    port: int,
    ui_port: int,
    log_path: Path,
    timeout: float = 90,
    headless: bool = False,
) -> Temporal:
    """Start `temporal server start-dev` persisting to the SQLite file `db_file`."""
    db_file = db_file.resolve()
    db_file.parent.mkdir(parents=True, exist_ok=True)
    temporal_bin = find_binary("temporal")
    argv = [
        temporal_bin, "server", "start-dev",
        "--db-filename", str(db_file),
        "--port", str(port),
        "--ui-port", str(ui_port),
        "--ip", "127.0.0.1",
        "--log-level", "warn",
        "--disable-config-file", "--disable-config-env",
    ]  # fmt: skip
    if headless:
        argv.append("--headless")
    else:
        # The UI otherwise makes the browser fetch a newsfeed from the internet.
        argv.append("--ui-disable-news-fetch")
    server = spawn("temporal", argv, log_path.resolve())
    wait_until_ready(server, lambda: _temporal_answers(temporal_bin, port), timeout)
    return Temporal(server=server, port=port, ui_port=ui_port)

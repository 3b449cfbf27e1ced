"""Real servers, each test in its own tmp_path on free ports."""

from __future__ import annotations

import asyncio
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from nats import connect

from offramp_devstack import (
    Nats,
    ServerFailedToStart,
    ServerProcess,
    free_port,
    free_ports,
    start_nats,
    start_postgres,
    start_temporal,
)
from offramp_devstack._proc import find_binary, tcp_connects


@pytest.fixture
def started() -> Iterator[list[ServerProcess]]:
    """Servers appended here are stopped even if the test fails half-way."""
    servers: list[ServerProcess] = []
    yield servers
    for server in servers:
        server.kill()


async def _fetch(dsn: str, query: str) -> object:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(query)
    finally:
        await conn.close()


# --------------------------------------------------------------------- Postgres


def test_postgres_starts_and_creates_databases(
    tmp_path: Path, started: list[ServerProcess]
) -> None:
    pg = start_postgres(tmp_path / "pg", free_port(), tmp_path / "pg.log")
    started.append(pg.server)

    dsn = asyncio.run(pg.create_database("offramp_app"))
    assert dsn == pg.dsn("offramp_app")
    assert asyncio.run(pg.create_database("offramp_app")) == dsn  # idempotent
    assert asyncio.run(_fetch(dsn, "SELECT current_database()")) == "offramp_app"

    pg.server.stop()
    pg.server.stop()  # idempotent
    assert pg.server.process.returncode == 0
    assert not tcp_connects(pg.port)


def test_postgres_data_survives_stop_and_start(
    tmp_path: Path, started: list[ServerProcess]
) -> None:
    data, log = tmp_path / "pg", tmp_path / "pg.log"
    pg = start_postgres(data, free_port(), log)
    started.append(pg.server)
    asyncio.run(_fetch(pg.dsn(), "CREATE TABLE kept AS SELECT 42 AS answer"))
    pg.server.stop()

    pg = start_postgres(data, free_port(), log)  # a different port must work too
    started.append(pg.server)
    assert asyncio.run(_fetch(pg.dsn(), "SELECT answer FROM kept")) == 42
    assert (
        log.read_text().count("Success. You can now start the database server") <= 1
    )  # no second initdb


def test_postgres_restarts_after_kill_9(tmp_path: Path, started: list[ServerProcess]) -> None:
    data, log, port = tmp_path / "pg", tmp_path / "pg.log", free_port()
    pg = start_postgres(data, port, log)
    started.append(pg.server)
    asyncio.run(_fetch(pg.dsn(), "CREATE TABLE crashed AS SELECT 7 AS n"))
    pg.server.kill()
    assert (data / "postmaster.pid").exists()  # stale lock file left behind

    pg = start_postgres(data, port, log)
    started.append(pg.server)
    assert asyncio.run(_fetch(pg.dsn(), "SELECT n FROM crashed")) == 7  # committed => recovered


def test_failure_to_start_shows_log_tail(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(ServerFailedToStart) as info:
            start_postgres(tmp_path / "pg", busy.getsockname()[1], tmp_path / "pg.log", timeout=30)
    assert "could not" in info.value.log_tail  # "could not bind/create listen socket"
    assert info.value.log_tail in str(info.value)


# ------------------------------------------------------------------------- NATS


async def _create_stream_and_publish(nats: Nats) -> tuple[str, int]:
    client = await connect(nats.url, **nats.connect_options())
    try:
        js = client.jetstream()
        await js.add_stream(name="ORDERS", subjects=["orders.>"])
        ack = await js.publish("orders.1", b"hello")
        return ack.stream, ack.seq
    finally:
        await client.close()


def _jsz(monitor_port: int) -> dict[str, Any]:
    resp = httpx.get(f"http://127.0.0.1:{monitor_port}/jsz", timeout=5)
    resp.raise_for_status()
    data: dict[str, Any] = resp.json()
    return data


def test_nats_jetstream_enabled_and_store_survives_restart(
    tmp_path: Path, started: list[ServerProcess]
) -> None:
    store, log = tmp_path / "nats", tmp_path / "nats.log"
    port, monitor = free_ports(2)
    nats = start_nats(store, port, monitor, log)
    started.append(nats.server)
    assert nats.url == f"nats://127.0.0.1:{port}"
    assert (
        httpx.get(f"{nats.monitor_url}/healthz", params={"js-enabled-only": "true"}).status_code
        == 200
    )
    jsz = _jsz(monitor)
    assert jsz["config"]["store_dir"].startswith(str(store.resolve()))

    assert asyncio.run(_create_stream_and_publish(nats)) == ("ORDERS", 1)
    nats.server.stop()

    nats = start_nats(store, port, monitor, log)
    started.append(nats.server)
    jsz = _jsz(monitor)
    assert (jsz["streams"], jsz["messages"]) == (1, 1)


# --------------------------------------------------------------------- Temporal


def _temporal_cli(address: str, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [
        find_binary("temporal"),
        *args,
        "--address",
        address,
        "--disable-config-file",
        "--disable-config-env",
    ]
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


def test_temporal_starts_answers_keeps_state_and_stops(
    tmp_path: Path, started: list[ServerProcess]
) -> None:
    db, log = tmp_path / "temporal.db", tmp_path / "temporal.log"
    port, ui_port = free_ports(2)
    temporal = start_temporal(db, port, ui_port, log, headless=True)
    started.append(temporal.server)
    assert temporal.address == f"127.0.0.1:{port}"
    created = _temporal_cli(
        temporal.address, "operator", "namespace", "create", "--namespace", "kept"
    )
    assert created.returncode == 0, created.stderr
    temporal.server.stop()
    assert temporal.server.process.returncode is not None
    assert not tcp_connects(port)

    temporal = start_temporal(db, port, ui_port, log, headless=True)
    started.append(temporal.server)
    described = _temporal_cli(
        temporal.address, "operator", "namespace", "describe", "--namespace", "kept"
    )
    assert described.returncode == 0, described.stderr

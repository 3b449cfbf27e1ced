"""Connections to the service's own schema."""

import os
import socket

import asyncpg


def application_name(schema: str) -> str:
    """Names the replica in `pg_stat_activity` (and so the holder of each lease in `pg_locks`):
    the service, its process id and its host (a pod's name), within Postgres' 63 bytes."""
    return f"offramp-{schema}/{os.getpid()}@{socket.gethostname()}"[:63]


async def _nothing_to_reset(conn: asyncpg.Connection) -> None:
    """A pool's connections hold no session state: whatever lasts past a transaction (a
    session advisory lock, a LISTEN, SET ROLE) lives on a dedicated session (`lease.py`), and
    SQL on pool connections sets only `SET LOCAL`. asyncpg still rolls back a transaction left
    open and drops listeners before calling this, so skipping its reset query (CLOSE ALL,
    UNLISTEN *, RESET ALL, advisory unlock) saves a round trip on every release."""


async def create_pool(dsn: str, schema: str, *, max_size: int = 10) -> asyncpg.Pool:
    """Every connection works in the service's schema, so SQL never names it."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=1,
        max_size=max_size,
        server_settings={"search_path": schema, "application_name": application_name(schema)},
        reset=_nothing_to_reset,
    )
    assert pool is not None
    return pool


async def connect(dsn: str, schema: str) -> asyncpg.Connection:
    return await asyncpg.connect(
        dsn, server_settings={"search_path": schema, "application_name": application_name(schema)}
    )

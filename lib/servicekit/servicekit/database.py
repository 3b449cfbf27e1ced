"""Connections to the service's own schema."""

import os
import socket

import asyncpg


def application_name(schema: str) -> str:
    """Names the replica in `pg_stat_activity` (and so the holder of each lease in `pg_locks`):
    the service, its process id and its host (a pod's name), within Postgres' 63 bytes."""
    return f"offramp-{schema}/{os.getpid()}@{socket.gethostname()}"[:63]


async def create_pool(dsn: str, schema: str, *, max_size: int = 10) -> asyncpg.Pool:
    """Every connection works in the service's schema, so SQL never names it."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=1,
        max_size=max_size,
        server_settings={"search_path": schema, "application_name": application_name(schema)},
    )
    assert pool is not None
    return pool


async def connect(dsn: str, schema: str) -> asyncpg.Connection:
    return await asyncpg.connect(
        dsn, server_settings={"search_path": schema, "application_name": application_name(schema)}
    )

"""Connections to the service's own schema."""

import asyncpg


async def create_pool(dsn: str, schema: str, *, max_size: int = 10) -> asyncpg.Pool:
    """Every connection works in the service's schema, so SQL never names it."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=1,
        max_size=max_size,
        server_settings={"search_path": schema, "application_name": f"offramp-{schema}"},
    )
    assert pool is not None
    return pool


async def connect(dsn: str, schema: str) -> asyncpg.Connection:
    return await asyncpg.connect(
        dsn, server_settings={"search_path": schema, "application_name": f"offramp-{schema}"}
    )

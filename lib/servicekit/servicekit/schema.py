"""The service's schema made ready by its owner: migrations applied, then the service's own
login granted what the running code needs and nothing more (ADR 0018).

Two logins per service in production and in the embedded default: the *owner*
(`database_owner_url`) owns the schema and everything in it and only ever runs migrations; the
*login* (`database_url`) is what the service serves with. The login owns nothing, so it can never
`ALTER`, `DROP`, `TRUNCATE` or disable a trigger, and on the tables its settings name as
append-only (the audit ledger's) it may only read and add. Without an owner URL the one login
does both, as in the unit tests' throwaway databases.
"""

from urllib.parse import unquote, urlsplit

import asyncpg

from servicekit.database import connect
from servicekit.migrations import Migration, migrate
from servicekit.settings import ServiceSettings


def identifier(name: str) -> str:
    """A PostgreSQL identifier, quoted (roles and schemas take no bind parameters)."""
    return '"' + name.replace('"', '""') + '"'


def login_of(dsn: str) -> str:
    """The role a DSN logs in as; a DSN without one is refused, since the grants would go to
    whoever happened to run the process."""
    user = urlsplit(dsn).username
    if not user:
        raise ValueError("the database URL names no user: cannot tell which login to grant")
    return unquote(user)


async def grant_login(
    conn: asyncpg.Connection, schema: str, login: str, append_only: tuple[str, ...]
) -> None:
    """Run by the owner after every migration run, in one transaction (so an append-only table
    is never, even for an instant, open to UPDATE): read and write the schema's tables, use its
    sequences; on `append_only` tables only SELECT and INSERT."""
    s, who = identifier(schema), identifier(login)
    async with conn.transaction():
        # Replicas starting together would otherwise update the same catalogue rows at once
        # ("tuple concurrently updated"): they take turns on migrate's lock.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('migrate:' || $1))", schema)
        await conn.execute(f"GRANT USAGE ON SCHEMA {s} TO {who}")
        await conn.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {who}"
        )
        await conn.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {who}")
        for table in append_only:
            await conn.execute(f"REVOKE UPDATE, DELETE ON {s}.{identifier(table)} FROM {who}")


async def prepare_schema(settings: ServiceSettings, migrations: list[Migration]) -> list[str]:
    """Apply what is pending as the schema's owner and grant the service's login; returns the
    migrations applied now. Two replicas may run this at once (migrate takes a lock; grants
    are idempotent)."""
    owner_url = settings.database_owner_url or settings.database_url
    conn = await connect(owner_url, settings.db_schema)
    try:
        applied = await migrate(conn, settings.db_schema, migrations)
        if settings.database_owner_url:
            await grant_login(
                conn,
                settings.db_schema,
                login_of(settings.database_url),
                settings.append_only_tables,
            )
        return applied
    finally:
        await conn.close()

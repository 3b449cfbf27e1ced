"""A small SQL migration runner: numbered `.sql` files applied once each, in order, into one
schema, recorded with a checksum so an edited, already-applied file is refused loudly.

Why not a migration framework: the well-kept ones drive psycopg, not asyncpg, and what a service
needs here is forty lines: ordered files, one transaction each, a lock against concurrent runs.
"""

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import asyncpg

from servicekit.log import get_logger

log = get_logger(__name__)


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    id: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def plumbing_migrations() -> list[Migration]:
    """The event store, outbox, inbox and dead-letter tables every service schema holds."""
    folder = resources.files("servicekit") / "sql"
    return sorted(
        (
            Migration(id=f"servicekit/{entry.name}", sql=entry.read_text())
            for entry in folder.iterdir()
            if entry.name.endswith(".sql")
        ),
        key=lambda m: m.id,
    )


def migrations_in(folder: Path, prefix: str) -> list[Migration]:
    return [
        Migration(id=f"{prefix}/{path.name}", sql=path.read_text())
        for path in sorted(folder.glob("*.sql"))
    ]


async def migrate(conn: asyncpg.Connection, schema: str, migrations: list[Migration]) -> list[str]:
    """Apply what is not yet applied; returns the ids applied now."""
    applied_now: list[str] = []
    async with conn.transaction():
        # Two replicas starting together must not both apply a migration.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('migrate:' || $1))", schema)
        # Asked first: an owner given its schema (servicekit.schema) may not create schemas,
        # and CREATE SCHEMA IF NOT EXISTS checks that right before it looks.
        if not await conn.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1", schema):
            await conn.execute(f'CREATE SCHEMA "{schema}"')
        await conn.execute(f'SET LOCAL search_path TO "{schema}"')
        # Only when missing: a service's own login (which may create nothing) runs this at
        # every start, and needs no DDL when nothing is pending.
        if await conn.fetchval("SELECT to_regclass('schema_migrations') IS NULL"):
            await conn.execute(
                """CREATE TABLE schema_migrations (
                       id text PRIMARY KEY,
                       checksum text NOT NULL,
                       applied_at timestamptz NOT NULL DEFAULT now())"""
            )
        done = {
            row["id"]: row["checksum"]
            for row in await conn.fetch("SELECT id, checksum FROM schema_migrations")
        }
        for migration in migrations:
            if migration.id in done:
                if done[migration.id] != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.id} was changed after it was applied to schema "
                        f"{schema!r}; add a new migration instead of editing an applied one"
                    )
                continue
            try:
                await conn.execute(migration.sql)
            except asyncpg.InsufficientPrivilegeError as error:
                raise MigrationError(
                    f"migration {migration.id} is pending but this login may not apply it "
                    f"({error}); run the service's `migrate` command as the schema's owner "
                    "(OFFRAMP_DATABASE_OWNER_URL)"
                ) from error
            await conn.execute(
                "INSERT INTO schema_migrations (id, checksum) VALUES ($1, $2)",
                migration.id,
                migration.checksum,
            )
            applied_now.append(migration.id)
    if applied_now:
        log.info("migrations applied", schema=schema, applied=applied_now)
    return applied_now

"""Two PostgreSQL logins per service for the embedded default (ADR 0018): `offramp_<schema>_owner`
owns the service's schema and runs its migrations; `offramp_<schema>` is what the service serves
with and owns nothing (servicekit.schema grants it what the code needs after each migration run).

Production creates the same roles its own way (deploy/README.md); this is what `make up` and the
test stacks do with the cluster's superuser. Roles belong to the whole cluster, so a second
database of the same cluster reuses them.
"""

from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

SCHEMAS = ("intake", "casework", "notify", "audit", "outcomes")
# What the audit ledger's sessions act as (SET ROLE; audit's migration 0002 grants it the
# ledger's INSERT and SELECT). Its login must be a member of it.
LEDGER_ROLE = "offramp_audit_ledger"


@dataclass(frozen=True)
class SchemaLogins:
    """The two DSNs a service is given: OFFRAMP_DATABASE_URL and OFFRAMP_DATABASE_OWNER_URL."""

    login_url: str
    owner_url: str

    def environment(self) -> dict[str, str]:
        return {
            "OFFRAMP_DATABASE_URL": self.login_url,
            "OFFRAMP_DATABASE_OWNER_URL": self.owner_url,
        }


def login_role(schema: str) -> str:
    return f"offramp_{schema}"


def owner_role(schema: str) -> str:
    return f"offramp_{schema}_owner"


def schema_logins(superuser_dsn: str, schema: str) -> SchemaLogins:
    """The service's two DSNs on the superuser DSN's server and database."""
    return SchemaLogins(
        _as(superuser_dsn, login_role(schema)), _as(superuser_dsn, owner_role(schema))
    )


def _as(dsn: str, role: str) -> str:
    """`dsn` logged in as `role` (the embedded default's server trusts local logins)."""
    parts = urlsplit(dsn)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{quote(role, safe='')}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _ensure_role(conn: asyncpg.Connection, role: str, attributes: str) -> None:
    if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
        try:
            await conn.execute(f"CREATE ROLE {_ident(role)} {attributes}")
        except asyncpg.DuplicateObjectError:
            pass  # created meanwhile by another database's provisioning
    await conn.execute(f"ALTER ROLE {_ident(role)} {attributes}")


async def _hand_over(conn: asyncpg.Connection, schema: str, owner: str) -> None:
    """Create the schema for its owner, or give an existing one (made by an older `make up` as
    the superuser) to it, with everything in it, so the owner's migrations can alter them."""
    s, who = _ident(schema), _ident(owner)
    await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {s} AUTHORIZATION {who}")
    await conn.execute(f"ALTER SCHEMA {s} OWNER TO {who}")
    relations = await conn.fetch(
        """SELECT c.oid::regclass::text AS name FROM pg_class c
           WHERE c.relnamespace = $1::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')""",
        schema,
    )
    for row in relations:
        await conn.execute(f"ALTER TABLE {row['name']} OWNER TO {who}")
    functions = await conn.fetch(
        "SELECT p.oid::regprocedure::text AS name FROM pg_proc p WHERE p.pronamespace = $1::regnamespace",
        schema,
    )
    for row in functions:
        await conn.execute(f"ALTER FUNCTION {row['name']} OWNER TO {who}")


async def provision(superuser_dsn: str) -> dict[str, SchemaLogins]:
    """Make both logins of every service and its schema in the DSN's database; idempotent."""
    conn = await asyncpg.connect(superuser_dsn, timeout=10)
    try:
        logins: dict[str, SchemaLogins] = {}
        for schema in SCHEMAS:
            owner, login = owner_role(schema), login_role(schema)
            # Audit's migration 0002 creates the ledger role if missing (CREATE ROLE), so its
            # owner may create roles; the others may not.
            await _ensure_role(
                conn, owner, "LOGIN CREATEROLE" if schema == "audit" else "LOGIN NOCREATEROLE"
            )
            await _ensure_role(conn, login, "LOGIN NOCREATEROLE NOCREATEDB")
            await _hand_over(conn, schema, owner)
            logins[schema] = schema_logins(superuser_dsn, schema)
        await _ensure_role(conn, LEDGER_ROLE, "NOLOGIN")
        await conn.execute(f"GRANT {_ident(LEDGER_ROLE)} TO {_ident(login_role('audit'))}")
        return logins
    finally:
        await conn.close()

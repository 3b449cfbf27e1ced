"""The audit service's own database login, as the embedded default and production give it
(ADR 0018): it may read and add to the ledger and nothing else; it owns nothing, so it cannot
change, remove, truncate, alter or drop the ledger, nor switch off the triggers that guard it.
Every other service's login is as closed to the ledger and to each other's schemas."""

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from audit.bootstrap import migrations as audit_migrations
from audit.settings import AuditSettings
from casework.bootstrap import migrations as casework_migrations
from casework.settings import CaseworkSettings
from intake.bootstrap import migrations as intake_migrations
from intake.settings import IntakeSettings
from offramp_devstack import db_logins
from servicekit.migrations import Migration, MigrationError
from servicekit.schema import prepare_schema


@pytest.fixture
async def logins(isolation: Any) -> dict[str, db_logins.SchemaLogins]:
    """Three services' schemas migrated by their owners, as a service's start does it."""
    made = await db_logins.provision(isolation.database_url)
    for settings_type, migrations in (
        (AuditSettings, audit_migrations),
        (IntakeSettings, intake_migrations),
        (CaseworkSettings, casework_migrations),
    ):
        login = made[settings_type().db_schema]
        settings = settings_type(database_url=login.login_url, database_owner_url=login.owner_url)
        await prepare_schema(settings, migrations())
    return made


@pytest.fixture
async def audit_login(
    logins: dict[str, db_logins.SchemaLogins],
) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(
        logins["audit"].login_url, server_settings={"search_path": "audit"}
    )
    try:
        yield conn
    finally:
        await conn.close()


LEDGER_TABLES = (
    "ledger",
    "checkpoints",
    "ledger_reads",
    "signing_cutover",
    "checkpoint_cosignatures",
)

REFUSED = [
    "UPDATE {t} SET {c} = {c}",
    "DELETE FROM {t}",
    "TRUNCATE {t}",
    "ALTER TABLE {t} DISABLE TRIGGER ALL",
    "ALTER TABLE {t} ADD COLUMN note text",
    "DROP TABLE {t}",
    "ALTER TABLE {t} OWNER TO CURRENT_USER",
]


@pytest.mark.parametrize("table", LEDGER_TABLES)
async def test_the_audit_login_may_only_read_and_add_to_the_ledger(
    audit_login: asyncpg.Connection, table: str
) -> None:
    column = await _a_column(audit_login, table)
    for statement in REFUSED:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await audit_login.execute(statement.format(t=table, c=column))
    granted = await audit_login.fetchrow(
        """SELECT has_table_privilege(current_user, $1, 'SELECT') AS read,
                  has_table_privilege(current_user, $1, 'INSERT') AS add,
                  has_table_privilege(current_user, $1, 'UPDATE') AS change,
                  has_table_privilege(current_user, $1, 'DELETE') AS remove""",
        f"audit.{table}",
    )
    assert dict(granted) == {"read": True, "add": True, "change": False, "remove": False}


async def _a_column(conn: asyncpg.Connection, table: str) -> str:
    name: str = await conn.fetchval(
        """SELECT column_name FROM information_schema.columns
           WHERE table_schema = 'audit' AND table_name = $1 AND is_identity = 'NO'
           ORDER BY ordinal_position LIMIT 1""",
        table,
    )
    return name


async def test_the_audit_login_owns_nothing_and_cannot_make_itself_owner(
    audit_login: asyncpg.Connection,
) -> None:
    owned = await audit_login.fetchval(
        """SELECT (SELECT count(*) FROM pg_class WHERE relowner = r.oid)
                + (SELECT count(*) FROM pg_namespace WHERE nspowner = r.oid)
                + (SELECT count(*) FROM pg_proc WHERE proowner = r.oid)
           FROM pg_roles r WHERE r.rolname = current_user"""
    )
    assert owned == 0
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await audit_login.execute("DROP TRIGGER ledger_no_update_or_delete ON ledger")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await audit_login.execute("DROP FUNCTION ledger_refuse_change()")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await audit_login.execute(f"SET ROLE {db_logins.owner_role('audit')}")


async def test_each_login_is_kept_out_of_every_other_schema(
    logins: dict[str, db_logins.SchemaLogins],
) -> None:
    for schema, login in logins.items():
        if schema not in {"audit", "intake", "casework"}:
            continue
        conn = await asyncpg.connect(login.login_url)
        try:
            for other in {"audit", "intake", "casework"} - {schema}:
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await conn.fetch(f"SELECT * FROM {other}.events LIMIT 1")
            # Its own events are open to it, as the running service needs.
            await conn.fetch(f"SELECT * FROM {schema}.events LIMIT 1")
        finally:
            await conn.close()


async def test_a_login_alone_starts_on_a_migrated_schema_and_names_the_owner_when_behind(
    logins: dict[str, db_logins.SchemaLogins],
) -> None:
    """As in production, where a Job migrates as the owner and the service starts with its
    login only: nothing pending needs no rights; something pending is refused by name."""
    login_only = AuditSettings(database_url=logins["audit"].login_url)
    assert await prepare_schema(login_only, audit_migrations()) == []
    behind = [*audit_migrations(), Migration(id="audit/9999_next.sql", sql="CREATE TABLE t ()")]
    with pytest.raises(MigrationError, match="OFFRAMP_DATABASE_OWNER_URL"):
        await prepare_schema(login_only, behind)

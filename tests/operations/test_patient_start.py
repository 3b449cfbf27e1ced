"""A service started before its database is up waits for it, says so in its log, and becomes
ready once PostgreSQL comes up, instead of exiting (issue 15, "patient start")."""

import asyncio
from pathlib import Path
from typing import Any

import pytest

from offramp_devstack import ServiceProcess, free_port
from offramp_devstack._proc import spawn
from offramp_devstack.servers import Postgres, start_postgres
from offramp_devstack.waiting import wait_for
from servicekit.auth import LocalIssuer

pytestmark = pytest.mark.timeout(300)


async def test_a_service_started_before_postgres_is_ready_once_postgres_comes_up(
    servers: Any, isolation: Any, tmp_path: Path
) -> None:
    port = free_port()
    LocalIssuer(isolation.key_path, issuer="offramp-local", audience="offramp")
    settings = {
        **isolation.settings(servers),
        # The database initdb makes: nothing has to be created between the two starts.
        "database_url": f"postgresql://postgres@127.0.0.1:{port}/postgres",
        "log_json": True,
    }
    intake = ServiceProcess(
        "intake",
        port=free_port(),
        env={f"OFFRAMP_{k.upper()}": str(v) for k, v in settings.items()},
        log_path=tmp_path / "intake.log",
    )
    # Started, not waited on: nothing listens at the database's port yet.
    intake.server = spawn("intake", intake.argv, intake.log_path, env=intake.env)
    late: Postgres | None = None
    try:

        async def says_it_waits() -> bool:
            log = intake.log_path.read_text(errors="replace")
            return "waiting for a dependency before starting" in log and "PostgreSQL" in log

        await wait_for(says_it_waits, timeout=60, what="intake to say it waits for PostgreSQL")
        assert intake.running(), intake.log_tail()
        assert f"127.0.0.1:{port}" in intake.log_path.read_text()

        late = await asyncio.to_thread(
            start_postgres, tmp_path / "late-postgres", port, tmp_path / "late-postgres.log"
        )
        await intake.wait_ready(within=120)
        assert "dependency reachable; starting" in intake.log_path.read_text()
    finally:
        await intake.stop()
        if late is not None:
            late.server.stop()

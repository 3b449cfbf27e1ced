"""`offramp-outcomes report` writes the same figures as the HTTP API, and `rebuild` makes the
same read model again from the audit ledger's redrive."""

import asyncio
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from nats.aio.client import Client as NATS

from tests.conftest import System, wait_for
from tests.outcomes.population import known_population, refer


def command(name: str, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    program = str(Path(sys.executable).with_name(f"offramp-{name}"))
    return subprocess.run(
        [program, *args], env=env, capture_output=True, text=True, check=False, timeout=240
    )


def environment(isolation: Any, servers: Any, **more: str) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "OFFRAMP_DATABASE_URL": isolation.database_url,
        "OFFRAMP_NATS_URL": servers.nats.url,
        "OFFRAMP_AUTH_LOCAL_KEY_PATH": str(isolation.key_path),
        "OFFRAMP_SUBJECT_ROOT": isolation.subject_root,
        "OFFRAMP_STREAM_NAME": isolation.stream_name,
        "OFFRAMP_LOG_JSON": "false",
        # As the README runs them: with the bus's operator user, whom alone a stream of the
        # commands' own (the redrive's) is open to.
        "OFFRAMP_NATS_NKEY_SEED_PATH": str(servers.nats.seed("admin")),
        **more,
    }


@pytest.mark.services("audit", "outcomes")
@pytest.mark.timeout(400)
async def test_the_report_command_and_a_rebuild_from_the_ledger_agree_with_the_service(
    system: System, nats_client: NATS, isolation: Any, servers: Any, tmp_path: Path
) -> None:
    people = known_population(seed=11, size=30)
    for truth, races in people:
        await refer(nats_client, isolation, truth, races)
    audit = system.services["audit"].runtime.pool
    outcomes = system.services["outcomes"].runtime.pool
    total = await wait_for(
        lambda: _settled(audit, outcomes), timeout=120, what="the ledger and outcomes caught up"
    )
    then = datetime.now(UTC).isoformat()
    token = system.token(sub="analyst-1", role="analyst", agency="county")
    async with system.client("outcomes", token) as http:
        served = (
            await http.get("/reports/equity", params={"as_known_on": then, "format": "csv"})
        ).text

    env = environment(isolation, servers)
    written = tmp_path / "equity.csv"
    report = ["report", "equity", "--jurisdiction", "pontiac", "--as-known-on", then]
    done = await asyncio.to_thread(command, "outcomes", [*report, "--out", str(written)], env)
    assert done.returncode == 0, done.stderr
    assert written.read_text() == served
    assert "equity" in done.stderr  # the progress bar names each step on the terminal

    redriven = await asyncio.to_thread(
        command, "audit", ["redrive", "--stream", "REBUILD-" + isolation.stream_name,
                           "--subject-root", "rebuild", "--no-progress"], env,
    )  # fmt: skip
    assert redriven.returncode == 0, redriven.stderr
    # The ledger keeps growing while the test reads (the report above is itself recorded as
    # a RecordAccessed entry): the rebuild folds exactly what the redrive sent.
    sent = int(redriven.stdout.split("re-drove ")[1].split()[0])
    assert sent >= total
    rebuilt_env = {**env, "OFFRAMP_DB_SCHEMA": "outcomes_rebuilt"}
    rebuilt = await asyncio.to_thread(
        command, "outcomes", ["rebuild", "--stream", "REBUILD-" + isolation.stream_name,
                              "--subject-root", "rebuild"], rebuilt_env,
    )  # fmt: skip
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert f"{sent} events folded" in rebuilt.stdout
    again = await asyncio.to_thread(command, "outcomes", [*report, "--no-progress"], rebuilt_env)
    assert again.returncode == 0, again.stderr
    assert again.stdout == served

    # Run again over a second redrive of the same ledger: the rebuild folds in batches, and
    # still each event once (the inbox knows every event id), only those the ledger gained
    # since; the same report comes out.
    second = await asyncio.to_thread(command, "audit", [
        "redrive", "--stream", "REBUILD2-" + isolation.stream_name, "--subject-root", "rebuild2",
        "--no-progress"], env)  # fmt: skip
    assert second.returncode == 0, second.stderr
    resent = int(second.stdout.split("re-drove ")[1].split()[0])
    assert resent > sent  # the reads above are in the ledger too
    twice = await asyncio.to_thread(
        command, "outcomes", ["rebuild", "--stream", "REBUILD2-" + isolation.stream_name,
                              "--subject-root", "rebuild2"], rebuilt_env,
    )  # fmt: skip
    assert twice.returncode == 0, twice.stderr
    assert f"{resent - sent} events folded" in twice.stdout
    assert await _inbox_rows(isolation, "outcomes_rebuilt") == resent
    again = await asyncio.to_thread(command, "outcomes", [*report, "--no-progress"], rebuilt_env)
    assert again.returncode == 0, again.stderr
    assert again.stdout == served


async def _inbox_rows(isolation: Any, schema: str) -> int:
    conn = await asyncpg.connect(isolation.database_url)
    try:
        rows: int = await conn.fetchval(f"SELECT count(*) FROM {schema}.inbox")
        return rows
    finally:
        await conn.close()


async def _settled(audit: Any, outcomes: Any) -> int | None:
    ledger = await audit.fetchval("SELECT count(*) FROM ledger")
    folded = await outcomes.fetchval("SELECT count(*) FROM inbox")
    return ledger if ledger and ledger == folded else None

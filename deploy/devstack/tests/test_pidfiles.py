"""Pid-file helpers used by `make up` / `make down`."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg

from offramp_devstack import free_port, start_postgres
from offramp_devstack.pidfiles import (
    is_running,
    read_pids,
    remove_pid,
    stop_all,
    stop_pid,
    write_pid,
)

# Ignores SIGTERM so that stop_pid has to escalate to SIGKILL.
_STUBBORN = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ok', flush=True); time.sleep(60)"


@contextmanager
def _spawn(code: str) -> Iterator[subprocess.Popen[bytes]]:
    with subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, start_new_session=True
    ) as proc:
        assert proc.stdout is not None
        proc.stdout.readline()  # wait until it has installed its handlers
        try:
            yield proc
        finally:
            proc.kill()  # no-op if already gone; Popen.__exit__ then waits


def test_write_and_read_pids(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert read_pids(run) == {}
    write_pid(run, "nats", 123)
    write_pid(run, "postgres", 456)
    (run / "temporal.pid").write_text("789\n")  # plain `echo $! > file` style
    (run / "junk.pid").write_text("not a pid")
    assert read_pids(run) == {"nats": 123, "postgres": 456, "temporal": 789}
    remove_pid(run, "nats")
    assert read_pids(run) == {"postgres": 456, "temporal": 789}


def test_stop_pid_terminates_group() -> None:
    with _spawn("import time; print('ok', flush=True); time.sleep(60)") as proc:
        assert is_running(proc.pid)
        assert stop_pid(proc.pid, timeout=5) is True
        assert not is_running(proc.pid)
        assert stop_pid(proc.pid, timeout=5) is False


def test_stop_pid_escalates_to_sigkill() -> None:
    with _spawn(_STUBBORN) as proc:
        assert stop_pid(proc.pid, timeout=0.3) is True
        assert not is_running(proc.pid)


def test_stop_all_leaves_a_reused_pid_alone(tmp_path: Path) -> None:
    path = write_pid(tmp_path, "ghost", os.getpid())
    record = json.loads(path.read_text())
    record["start_time"] -= 1  # as if our pid had been recycled since it was written
    path.write_text(json.dumps(record))
    assert stop_all(tmp_path) == {"ghost": False}
    assert read_pids(tmp_path) == {}


def test_stop_all_stops_postgres_despite_open_connection(tmp_path: Path) -> None:
    pg = start_postgres(tmp_path / "pg", free_port(), tmp_path / "pg.log")
    write_pid(tmp_path / "run", "postgres", pg.server.pid, pg.server.stop_signal)

    async def hold_connection_while_stopping() -> dict[str, bool]:
        conn = await asyncpg.connect(pg.dsn())
        try:
            # SIGTERM would wait for this connection forever ("smart" shutdown).
            return await asyncio.to_thread(stop_all, tmp_path / "run", 10)
        finally:
            conn.terminate()

    started = time.monotonic()
    assert asyncio.run(hold_connection_while_stopping()) == {"postgres": True}
    assert time.monotonic() - started < 5
    assert not pg.server.running()

"""Pid files for detached dev servers, so `make down` can stop what `make up` started.

One file per server, `<run_dir>/<name>.pid`, holding a small JSON record:
the pid, the signal that shuts the server down cleanly, and the process
start time, which lets `stop_all` tell a live server from an unrelated
process that reused the pid after a reboot.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

_SUFFIX = ".pid"
_POLL_INTERVAL = 0.05


def write_pid(run_dir: Path, name: str, pid: int, stop_signal: int = signal.SIGTERM) -> Path:
    """Record `pid` as `run_dir/<name>.pid`; pass `server.stop_signal` for a ServerProcess."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / f"{name}{_SUFFIX}"
    record = {"pid": pid, "stop_signal": int(stop_signal), "start_time": _start_time(pid)}
    # Write-then-rename so a concurrent `make down` never reads half a file.
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(record) + "\n")
    tmp.replace(path)
    return path


def read_pids(run_dir: Path) -> dict[str, int]:
    """All recorded pids by name; unreadable or malformed files are skipped."""
    return {name: int(record["pid"]) for name, record in _read_records(run_dir).items()}


def remove_pid(run_dir: Path, name: str) -> None:
    (run_dir / f"{name}{_SUFFIX}").unlink(missing_ok=True)


def is_running(pid: int) -> bool:
    """Whether `pid` is alive. Zombies count as dead (and are reaped if they are our children)."""
    if pid <= 0:
        return False
    try:
        # Reaps the process if it is our exited child; otherwise a zombie
        # would keep answering kill(pid, 0) forever.
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return not _is_zombie(pid)


def stop_pid(pid: int, timeout: float = 15, sig: int = signal.SIGTERM) -> bool:
    """Send `sig` to the process group of `pid`, wait up to `timeout`, then SIGKILL it.

    Returns whether the process was running. For Postgres pass SIGINT: on
    SIGTERM it waits for every client to disconnect first.
    """
    if not is_running(pid):
        return False
    _signal_group(pid, sig)
    if _wait_gone(pid, timeout):
        return True
    _signal_group(pid, signal.SIGKILL)
    _wait_gone(pid, 5)
    return True


def stop_all(run_dir: Path, timeout: float = 15) -> dict[str, bool]:
    """Stop every recorded server with its recorded signal, removing its pid file.

    Returns name -> whether it was running. A pid whose start time no longer
    matches the record belongs to some other process now and is left alone.
    """
    result: dict[str, bool] = {}
    for name, record in _read_records(run_dir).items():
        pid = int(record["pid"])
        recorded_start = record.get("start_time")
        if recorded_start is not None and _start_time(pid) != recorded_start:
            result[name] = False
        else:
            result[name] = stop_pid(pid, timeout, int(record.get("stop_signal", signal.SIGTERM)))
        remove_pid(run_dir, name)
    return result


def _read_records(run_dir: Path) -> dict[str, dict[str, int]]:
    records: dict[str, dict[str, int]] = {}
    if not run_dir.is_dir():
        return records
    for path in sorted(run_dir.glob(f"*{_SUFFIX}")):
        try:
            text = path.read_text().strip()
            # A bare number is accepted too, for files written by hand or by `echo $!`.
            data = json.loads(text) if text.startswith("{") else {"pid": int(text)}
            records[path.name[: -len(_SUFFIX)]] = {
                k: int(v) for k, v in data.items() if v is not None
            }
        except (OSError, ValueError, TypeError, AttributeError):
            continue
    return records


def _proc_stat_fields(pid: int) -> list[str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after the parenthesised command name, which may contain spaces:
    # [0] is the state, [19] the start time in clock ticks since boot.
    return stat[stat.rfind(")") + 2 :].split()


def _start_time(pid: int) -> int | None:
    fields = _proc_stat_fields(pid)
    return int(fields[19]) if fields and len(fields) > 19 else None


def _is_zombie(pid: int) -> bool:
    fields = _proc_stat_fields(pid)
    return fields is not None and fields[:1] == ["Z"]  # no procfs (macOS): trust kill(pid, 0)


def _signal_group(pid: int, sig: int) -> None:
    try:
        # Servers are started as process-group leaders (start_new_session),
        # so the group reaches any helper they forked as well.
        os.killpg(pid, sig)
    except ProcessLookupError:
        # Not a group leader after all: signal just the process.
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while is_running(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_INTERVAL)
    return True

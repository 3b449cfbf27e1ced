"""Process plumbing shared by the server starters: spawning, log tails, readiness polling."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

LOG_TAIL_LINES = 40
# Short enough that readiness is noticed promptly, long enough not to spin.
POLL_INTERVAL = 0.05


class ServerFailedToStart(RuntimeError):
    """A server exited (or never became ready) during startup; the message carries its log tail."""

    def __init__(
        self, name: str, log_tail: str, reason: str = "exited before it was ready"
    ) -> None:
        self.name = name
        self.log_tail = log_tail
        self.reason = reason
        super().__init__(f"{name} {reason}. Last lines of its log:\n{log_tail}")


@dataclass
class ServerProcess:
    """A started server process, leader of its own process group."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    # Postgres wants SIGINT ("fast" shutdown): SIGTERM is its "smart" mode,
    # which waits for every client to disconnect and can hang a teardown.
    stop_signal: int = signal.SIGTERM
    # Where this run's output starts in the (append-mode) log, so a failure
    # shows this run's lines rather than a previous run's.
    log_offset: int = field(default=0, repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 15) -> None:
        """Ask the server to shut down, SIGKILL its group if it does not within `timeout`. Idempotent."""
        if self.process.poll() is not None:
            return
        try:
            self.process.send_signal(self.stop_signal)
            # A paused server would keep the signal pending until it is resumed.
            self._signal_group(signal.SIGCONT)
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL the whole process group (simulates a crash); waits until it is gone."""
        if self.process.poll() is None:
            # Safe while the leader is unreaped: its pid (= the group id)
            # cannot be reused yet. The group catches helpers a server may
            # fork; Postgres backends are not among them (each calls setsid),
            # they exit by themselves once they notice the postmaster died.
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()

    def pause(self) -> None:
        """SIGSTOP the process group: the server stops answering, as a hung or swapped-out
        process would, without losing any state. Postgres backends run in their own sessions
        and are not paused with the postmaster."""
        self._signal_group(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT what `pause` stopped."""
        self._signal_group(signal.SIGCONT)

    def _signal_group(self, sig: int) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                pass

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return read_log_tail(self.log_path, self.log_offset, lines)


def read_log_tail(log_path: Path, offset: int = 0, lines: int = LOG_TAIL_LINES) -> str:
    try:
        with log_path.open("rb") as f:
            f.seek(offset)
            data = f.read()
    except OSError as exc:
        return f"<could not read {log_path}: {exc}>"
    text = data.decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:]) or "<log is empty>"


def find_binary(name: str) -> str:
    """Locate a binary installed by a PyPI package into the current venv's bin dir.

    Looked up next to sys.executable first so that an unrelated copy on PATH
    (a different version) does not win; `which` is the fallback for installs
    where scripts land elsewhere (e.g. user installs).
    """
    candidate = Path(sys.executable).parent / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} not found next to {sys.executable} nor on PATH")
    return found


def spawn(
    name: str,
    argv: Sequence[str],
    log_path: Path,
    *,
    user: str | None = None,
    stop_signal: int = signal.SIGTERM,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> ServerProcess:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        offset = log.tell()
        # Own session/process group: a Ctrl-C in the terminal (pytest, make)
        # goes to the foreground group only, so servers are torn down by our
        # code in order instead of racing it.
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=cwd,
            env=None if env is None else dict(env),
            **privilege_drop_kwargs(user),
        )
    return ServerProcess(
        name=name, process=proc, log_path=log_path, stop_signal=stop_signal, log_offset=offset
    )


class PrivilegeDrop(TypedDict, total=False):
    user: int
    group: int
    extra_groups: list[int]


def privilege_drop_kwargs(user: str | None) -> PrivilegeDrop:
    """Popen keyword arguments that run the child as `user` (nothing if None)."""
    if user is None:
        return {}
    import pwd

    entry = pwd.getpwnam(user)
    # user= alone would keep gid 0 and root's supplementary groups.
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def wait_until_ready(server: ServerProcess, ready: Callable[[], bool], timeout: float) -> None:
    """Poll `ready` until it returns True; fail fast if the process dies, stop it on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        if not server.running():
            reason = f"exited with code {server.process.returncode} before it was ready"
            raise ServerFailedToStart(server.name, server.log_tail(), reason)
        if ready() and server.running():
            # Re-checked after the probe: if our process lost a port race it
            # dies, and the probe may have been answered by someone else.
            return
        if time.monotonic() >= deadline:
            server.kill()
            raise ServerFailedToStart(
                server.name, server.log_tail(), f"was not ready within {timeout:g}s (killed)"
            )
        time.sleep(POLL_INTERVAL)


def tcp_connects(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    import socket

    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False

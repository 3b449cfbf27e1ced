"""An Offramp service as its own OS process, for tests and benchmarks that need a real process
boundary: `offramp-<service> serve` started on a fixed port, waited on until `/readyz` answers,
then SIGKILLed, paused (SIGSTOP), resumed and started again on the same port.

A process of its own does not share the caller's event loop (a load generator measures the
service, not itself), and a SIGKILL runs no shutdown hook: what survives it is what the service
really guarantees.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

import httpx

from offramp_devstack._proc import ServerFailedToStart, ServerProcess, spawn
from offramp_devstack.waiting import wait_for

__all__ = ["ServiceProcess", "service_environment"]


def service_environment(settings: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without its own OFFRAMP_* settings (a developer's shell may
    point them at `make up`'s servers), plus `settings`."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("OFFRAMP_")}
    # Nor the settings file `make up` leaves in `.offramp/`: only what the caller gives.
    return {**inherited, "OFFRAMP_ENV_FILE": "", **settings}


class ServiceProcess:
    """One service's process. `env` holds its OFFRAMP_* settings; the port and host are set
    here, so a restarted process listens where its clients already point."""

    def __init__(
        self,
        name: str,
        *,
        port: int,
        env: Mapping[str, str],
        log_path: Path,
        cwd: Path | None = None,
        host: str = "127.0.0.1",
        argv: Sequence[str] | None = None,
    ) -> None:
        self.name = name
        self.port = port
        self.host = host
        self.log_path = log_path
        self.cwd = cwd
        self.env = service_environment(
            {**env, "OFFRAMP_HTTP_HOST": host, "OFFRAMP_HTTP_PORT": str(port)}
        )
        self.argv = list(argv or [str(Path(sys.executable).with_name(f"offramp-{name}")), "serve"])
        self.server: ServerProcess | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        return self._running_server().pid

    def running(self) -> bool:
        return self.server is not None and self.server.running()

    async def start(self, ready_within: float = 90) -> None:
        """Start the process (again, after a kill or stop) and wait until it is ready."""
        if self.running():
            raise RuntimeError(f"{self.name} is already running (pid {self.pid})")
        self.server = spawn(self.name, self.argv, self.log_path, cwd=self.cwd, env=self.env)
        self.starts += 1
        await self.wait_ready(ready_within)

    async def wait_ready(self, within: float = 90) -> None:
        """Wait until `/readyz` answers 200: the database, NATS and every background task are
        up. Fails at once, with the end of the log, if the process exits meanwhile."""
        server = self._running_server()

        async def ready() -> bool:
            if not server.running():
                raise ServerFailedToStart(
                    self.name,
                    server.log_tail(),
                    f"exited with code {server.process.returncode} before it was ready",
                )
            try:
                async with httpx.AsyncClient(timeout=2) as http:
                    return (await http.get(f"{self.url}/readyz")).status_code == 200
            except httpx.HTTPError:
                return False

        try:
            await wait_for(ready, timeout=within, what=f"{self.name} to be ready", every=0.1)
        except AssertionError as error:
            raise ServerFailedToStart(self.name, server.log_tail(), str(error)) from None

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, nothing is flushed or released politely."""
        self._running_server().kill()

    def pause(self) -> None:
        """SIGSTOP: the process holds its connections and messages but does nothing."""
        self._running_server().pause()

    def resume(self) -> None:
        self._running_server().resume()

    async def stop(self, grace: float = 30) -> None:
        """SIGTERM and wait (SIGKILL after `grace` seconds); nothing if it is not running."""
        if self.server is not None:
            await asyncio.to_thread(self.server.stop, grace)

    def log_tail(self, lines: int = 40) -> str:
        return self.server.log_tail(lines) if self.server else "<never started>"

    def _running_server(self) -> ServerProcess:
        if self.server is None:
            raise RuntimeError(f"{self.name} was never started")
        return self.server

    async def __aenter__(self) -> ServiceProcess:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

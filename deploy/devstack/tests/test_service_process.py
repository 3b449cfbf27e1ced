"""A service run as its own process: ready when /readyz says so, killed without a chance to
clean up, paused and resumed, and started again where its clients already point."""

import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from offramp_devstack import ServerFailedToStart, ServiceProcess, free_port
from servicekit.auth import LocalIssuer


def environment(servers: Any, isolation: Any) -> dict[str, str]:
    LocalIssuer(isolation.key_path, issuer="offramp-local", audience="offramp")
    settings = {**isolation.settings(servers), "log_json": False}
    return {f"OFFRAMP_{key.upper()}": str(value) for key, value in settings.items()}


async def answers(url: str, timeout: float = 2) -> bool:
    try:
        async with httpx.AsyncClient(timeout=timeout) as http:
            return (await http.get(f"{url}/healthz")).status_code == 200
    except httpx.HTTPError:
        return False


async def test_a_service_is_killed_paused_resumed_and_restarted_on_its_port(
    servers: Any, isolation: Any, tmp_path: Path
) -> None:
    intake = ServiceProcess(
        "intake",
        port=free_port(),
        env=environment(servers, isolation),
        log_path=tmp_path / "intake.log",
    )
    try:
        await intake.start()
        assert await answers(intake.url)
        first_pid = intake.pid

        intake.pause()
        assert not await answers(intake.url, timeout=0.5), "a paused process answered"
        intake.resume()
        assert await answers(intake.url, timeout=10)

        intake.kill()
        assert not intake.running()
        assert not await answers(intake.url)

        await intake.start()
        assert intake.pid != first_pid and intake.starts == 2
        assert await answers(intake.url)
        with pytest.raises(RuntimeError, match="already running"):
            await intake.start()

        # A paused process still hears the stop signal and shuts down on its own, instead of
        # being SIGKILLed when the grace period is over.
        intake.pause()
        await intake.stop(grace=30)
        assert intake.server is not None
        assert intake.server.process.returncode in (0, -signal.SIGTERM)
    finally:
        await intake.stop()
    assert not intake.running()


async def test_a_service_that_cannot_start_fails_at_once_with_its_log(
    servers: Any, isolation: Any, tmp_path: Path
) -> None:
    env = {**environment(servers, isolation), "OFFRAMP_PROFILES_DIR": str(tmp_path / "none")}
    intake = ServiceProcess("intake", port=free_port(), env=env, log_path=tmp_path / "intake.log")
    try:
        with pytest.raises(ServerFailedToStart, match="exited with code"):
            await intake.start(ready_within=60)
    finally:
        await intake.stop()

"""`make status`: each server and service, where it listens, and whether it is ready; each
service's readiness names its own dependencies (PostgreSQL, NATS, its background work). The
exit code is non-zero when anything `make up` starts is not running or not ready."""

import socket
from dataclasses import dataclass

import httpx

from offramp_devstack import pidfiles
from offramp_devstack.stack import SERVICES, Layout, Ports, Say

SERVERS = {
    "postgres": ("postgres", "postgresql://postgres@127.0.0.1:{port}/offramp"),
    "nats": ("nats", "nats://127.0.0.1:{port}"),
    "temporal": ("temporal", "127.0.0.1:{port} (UI http://127.0.0.1:{ui})"),
    "mail": ("smtp", "smtp://127.0.0.1:{port}"),
}


@dataclass(frozen=True)
class Line:
    name: str
    pid: int | None
    state: str
    where: str
    detail: str = ""

    @property
    def healthy(self) -> bool:
        return self.state in ("running", "ready")

    def render(self) -> str:
        pid = str(self.pid) if self.pid else "-"
        text = f"  {self.name:<9} pid {pid:<8} {self.state:<11} {self.where}"
        return f"{text}\n{'':<13}{self.detail}" if self.detail else text


def survey(layout: Layout, ports: Ports) -> list[Line]:
    servers = pidfiles.read_pids(layout.server_pids())
    services = pidfiles.read_pids(layout.service_pids())
    lines = []
    for name, (port_name, where) in SERVERS.items():
        port = getattr(ports, port_name)
        pid = servers.get(name)
        alive = pid is not None and pidfiles.is_running(pid)
        listening = _listening(port)
        state = "running" if alive and listening else "starting" if alive else "down"
        lines.append(Line(name, pid, state, where.format(port=port, ui=ports.temporal_ui)))
    for name in SERVICES:
        pid = services.get(name)
        url = f"http://127.0.0.1:{ports.service(name)}"
        alive = pid is not None and pidfiles.is_running(pid)
        state, detail = _readiness(url) if alive else ("down", "")
        if not alive and pid is not None:
            detail = f"not running; see {layout.logs / f'{name}.log'}, then `make up` again"
        lines.append(Line(name, pid, state, url, detail))
    return lines


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _readiness(url: str) -> tuple[str, str]:
    try:
        answer = httpx.get(f"{url}/readyz", timeout=3)
    except httpx.HTTPError as error:
        return "not ready", f"no answer from {url}/readyz: {error!r}"
    try:
        checks = answer.json().get("checks", {})
    except ValueError:
        checks = {}
    detail = ", ".join(f"{k} {v}" for k, v in checks.items())
    return ("ready" if answer.status_code == 200 else "not ready"), detail


def status(layout: Layout, ports: Ports, say: Say) -> int:
    if not pidfiles.read_pids(layout.server_pids()) and not pidfiles.read_pids(
        layout.service_pids()
    ):
        say("nothing is running; start it with: make up")
        return 1
    lines = survey(layout, ports)
    for line in lines:
        say(line.render())
    unhealthy = [line.name for line in lines if not line.healthy]
    if unhealthy:
        say(f"not ready: {', '.join(unhealthy)}")
        return 1
    say("everything is up")
    return 0

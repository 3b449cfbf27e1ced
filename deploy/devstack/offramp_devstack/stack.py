"""The whole system on one machine: the three servers, then the four services, all detached,
with data, logs and pid files under one directory (`.offramp/` by default)."""

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from offramp_devstack import db_logins, pidfiles
from offramp_devstack.mailsink import start_mail_sink_process
from offramp_devstack.servers import ServerProcess, start_nats, start_postgres, start_temporal

SERVICES = ("intake", "casework", "notify", "audit", "outcomes")
# The site profiles in the repository this (editable) package is installed from.
PROFILES = Path(__file__).resolve().parents[2] / "profiles"
# The web console: no database of its own, so nothing to migrate; it starts after the services.
CONSOLE = "console"


@dataclass(frozen=True)
class Ports:
    """Fixed by default so that URLs in the README stay true; override with OFFRAMP_DEV_<NAME>_PORT."""

    console: int = 8000
    postgres: int = 55432
    nats: int = 4222
    nats_monitor: int = 8222
    temporal: int = 7233
    temporal_ui: int = 8233
    intake: int = 8001
    casework: int = 8002
    notify: int = 8003
    audit: int = 8004
    outcomes: int = 8005
    smtp: int = 2525

    @classmethod
    def from_environment(cls, recorded: Path | None = None) -> "Ports":
        """OFFRAMP_DEV_<NAME>_PORT, else what `make up` recorded in `recorded` (so `make status`
        and the commands find a stack started on other ports), else the defaults."""
        defaults = cls()
        known = read_settings_file(recorded) if recorded is not None else {}
        return cls(
            **{
                name: int(
                    os.environ.get(
                        port_variable(name), known.get(port_variable(name), getattr(defaults, name))
                    )
                )
                for name in cls.__dataclass_fields__
            }
        )

    def variables(self) -> dict[str, str]:
        return {port_variable(name): str(getattr(self, name)) for name in self.__dataclass_fields__}

    def service(self, name: str) -> int:
        port: int = getattr(self, name)
        return port


@dataclass(frozen=True)
class Layout:
    home: Path

    @property
    def run(self) -> Path:
        return self.home / "run"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def key(self) -> Path:
        return self.home / "keys" / "local-issuer.pem"

    @property
    def nats_credentials(self) -> Path:
        """The bus users' NKEY seeds (`admin.nk` for operators), beside the server's store."""
        return self.home / "nats-credentials"

    @property
    def mail(self) -> Path:
        """The mail sink's Maildir: every e-mail notify sends in development ends here."""
        return self.home / "mail"

    def service_pids(self) -> Path:
        return self.run / "services"

    def server_pids(self) -> Path:
        return self.run / "servers"

    @property
    def settings_file(self) -> Path:
        """The settings `make up` gave the services, for the commands run beside them
        (servicekit.operator_cli reads it), and the ports it chose."""
        return self.home / "offramp.env"


class StackError(RuntimeError):
    pass


def port_variable(name: str) -> str:
    return f"OFFRAMP_DEV_{name.upper()}_PORT"


# Short enough that the README's proofs and export find checkpoints within the worked example;
# production keeps the service's own defaults (1000 entries or 300 s).
DEV_DEFAULTS = {
    "OFFRAMP_CHECKPOINT_EVERY_ENTRIES": "5",
    "OFFRAMP_CHECKPOINT_EVERY_SECONDS": "10",
}


def read_settings_file(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and not name.startswith("#"):
            values[name.strip()] = value.strip()
    return values


def write_settings_file(layout: Layout, ports: Ports) -> None:
    """Every setting the services share (not each one's port), and the stack's ports."""
    shared = {
        k: v
        for k, v in service_environment(layout, ports, SERVICES[0]).items()
        if k.startswith("OFFRAMP_")
        and k != "OFFRAMP_HTTP_PORT"
        and not k.startswith("OFFRAMP_DEV_")
        and k != "OFFRAMP_ENV_FILE"
    }
    lines = ["# Written by `make up`: the settings it gave the services. Commands read it."]
    # Operators' commands (dead letters, verify, reports) read every service's schema: they log
    # in as the cluster's superuser, as they use the bus's admin user.
    shared["OFFRAMP_DATABASE_URL"] = superuser_url(ports)
    shared.pop("OFFRAMP_DATABASE_OWNER_URL", None)
    lines += [f"{k}={v}" for k, v in sorted(shared.items())]
    lines += [f"{k}={v}" for k, v in ports.variables().items()]
    layout.settings_file.parent.mkdir(parents=True, exist_ok=True)
    layout.settings_file.write_text("\n".join(lines) + "\n")


def service_environment(layout: Layout, ports: Ports, name: str) -> dict[str, str]:
    if name == CONSOLE:
        return {
            **os.environ,
            "OFFRAMP_AUTH_LOCAL_KEY_PATH": str(layout.key.resolve()),
            "OFFRAMP_HTTP_PORT": str(ports.console),
            "OFFRAMP_PUBLIC_URL": f"http://127.0.0.1:{ports.console}",
            **{
                f"OFFRAMP_{service.upper()}_URL": f"http://127.0.0.1:{ports.service(service)}"
                for service in SERVICES
            },
        }
    return {
        **DEV_DEFAULTS,
        # Absolute, so that a command run from elsewhere with the settings file finds them.
        "OFFRAMP_PROFILES_DIR": str(PROFILES),
        **os.environ,
        # The service's own login, which owns nothing, and its schema owner's for migrations.
        **database_environment(ports, name),
        "OFFRAMP_NATS_URL": f"nats://127.0.0.1:{ports.nats}",
        # Each service's NKEY seed, `<name>.nk`, made with the server's configuration.
        "OFFRAMP_NATS_CREDENTIALS_DIR": str(layout.nats_credentials.resolve()),
        "OFFRAMP_TEMPORAL_ADDRESS": f"127.0.0.1:{ports.temporal}",
        "OFFRAMP_AUTH_LOCAL_KEY_PATH": str(layout.key.resolve()),
        "OFFRAMP_HTTP_PORT": str(ports.service(name)),
        "OFFRAMP_SMTP_HOST": "127.0.0.1",
        "OFFRAMP_SMTP_PORT": str(ports.smtp),
        # The embedded default's partner systems are receivers on this machine: an explicit
        # choice that production never makes (notify.settings).
        "OFFRAMP_WEBHOOK_ALLOW_LOOPBACK": "true",
    }


def database_environment(ports: Ports, name: str) -> dict[str, str]:
    return db_logins.schema_logins(superuser_url(ports), name).environment()


def start_servers(layout: Layout, ports: Ports, say: "Say") -> None:
    running = pidfiles.read_pids(layout.server_pids())
    plans: dict[str, Callable[[], ServerProcess]] = {
        "postgres": lambda: (
            start_postgres(
                layout.home / "postgres", ports.postgres, layout.logs / "postgres.log"
            ).server
        ),
        "nats": lambda: (
            start_nats(
                layout.home / "nats", ports.nats, ports.nats_monitor, layout.logs / "nats.log"
            ).server
        ),
        "temporal": lambda: (
            start_temporal(
                layout.home / "temporal.db",
                ports.temporal,
                ports.temporal_ui,
                layout.logs / "temporal.log",
            ).server
        ),
        "mail": lambda: start_mail_sink_process(layout.mail, ports.smtp, layout.logs / "mail.log"),
    }
    for name, start in plans.items():
        if name in running and pidfiles.is_running(running[name]):
            say(f"  {name:<9} already running (pid {running[name]})")
            continue
        say(f"  {name:<9} starting...")
        server = start()
        pidfiles.write_pid(layout.server_pids(), name, server.pid, server.stop_signal)


def superuser_url(ports: Ports) -> str:
    """The cluster's superuser: what operators' commands log in as (the settings file), never
    a service."""
    return f"postgresql://postgres@127.0.0.1:{ports.postgres}/offramp"


def ensure_database(ports: Ports) -> None:
    import asyncio

    import asyncpg

    async def create() -> None:
        conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{ports.postgres}/postgres")
        try:
            if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = 'offramp'"):
                await conn.execute("CREATE DATABASE offramp")
        finally:
            await conn.close()
        await db_logins.provision(superuser_url(ports))

    asyncio.run(create())


def ensure_issuer_key(layout: Layout) -> None:
    """Created once, before any service starts, so that four services starting together do not
    race to create it."""
    from servicekit.auth import LocalIssuer

    LocalIssuer(layout.key, issuer="offramp-local", audience="offramp")


def service_command(name: str, action: str) -> list[str]:
    return [str(Path(sys.executable).with_name(f"offramp-{name}")), action]


def migrate_services(layout: Layout, ports: Ports, say: "Say") -> None:
    for name in SERVICES:
        result = subprocess.run(
            service_command(name, "migrate"),
            env=service_environment(layout, ports, name),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(f"migrating {name} failed:\n{result.stderr[-3000:]}")
        say(f"  {result.stdout.strip()}")


def start_services(layout: Layout, ports: Ports, say: "Say") -> None:
    running = pidfiles.read_pids(layout.service_pids())
    for name in (*SERVICES, CONSOLE):
        if name in running and pidfiles.is_running(running[name]):
            say(f"  {name:<9} already running (pid {running[name]})")
            continue
        log = (layout.logs / f"{name}.log").open("ab")
        process = subprocess.Popen(
            service_command(name, "serve"),
            env=service_environment(layout, ports, name),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        pidfiles.write_pid(layout.service_pids(), name, process.pid)


def wait_until_ready(layout: Layout, ports: Ports, say: "Say", timeout: float = 90) -> None:
    pending = {*SERVICES, CONSOLE}
    deadline = time.monotonic() + timeout
    last: dict[str, str] = {}
    while pending:
        for name in sorted(pending):
            try:
                response = httpx.get(f"http://127.0.0.1:{ports.service(name)}/readyz", timeout=2)
                last[name] = response.text
                if response.status_code == 200:
                    pending.discard(name)
                    say(f"  {name:<9} ready")
            except httpx.HTTPError as error:
                last[name] = repr(error)
        if pending and time.monotonic() > deadline:
            name = sorted(pending)[0]
            tail = (layout.logs / f"{name}.log").read_text(errors="replace")[-3000:]
            raise StackError(
                f"{', '.join(sorted(pending))} not ready after {timeout:.0f}s "
                f"(last answer: {last.get(name)}).\nEnd of {layout.logs / f'{name}.log'}:\n{tail}"
            )
        if pending:
            time.sleep(0.3)


def stop(layout: Layout) -> dict[str, bool]:
    stopped = pidfiles.stop_all(layout.service_pids())
    stopped.update(pidfiles.stop_all(layout.server_pids()))
    return stopped


class Say:
    def __call__(self, line: str) -> None:
        print(line, flush=True)

"""`offramp-dev`: bring the whole system up on this machine, show it, take it down."""

import argparse
from pathlib import Path

from offramp_devstack import pidfiles
from offramp_devstack.mailsink import print_mail
from offramp_devstack.servers import ServerFailedToStart
from offramp_devstack.stack import (
    SERVICES,
    Layout,
    Ports,
    Say,
    StackError,
    ensure_database,
    ensure_issuer_key,
    migrate_services,
    start_servers,
    start_services,
    stop,
    wait_until_ready,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="offramp-dev", description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status", "mail"])
    parser.add_argument(
        "--home", type=Path, default=Path(".offramp"), help="data, logs and pids (default .offramp)"
    )
    parser.add_argument("--full", action="store_true", help="mail: print each message's text too")
    args = parser.parse_args(argv)
    layout = Layout(args.home)
    if args.command == "mail":
        return print_mail(layout.mail, full=args.full)
    ports = Ports.from_environment()
    say = Say()
    if args.command == "down":
        stopped = stop(layout)
        say(
            "stopped: "
            + (", ".join(n for n, was in stopped.items() if was) or "nothing was running")
        )
        return 0
    if args.command == "status":
        return status(layout, ports, say)
    try:
        up(layout, ports, say)
    except (StackError, ServerFailedToStart) as error:
        say(f"offramp-dev: {error}")
        say("Stop whatever did start with: make down")
        return 1
    return 0


def up(layout: Layout, ports: Ports, say: Say) -> None:
    layout.logs.mkdir(parents=True, exist_ok=True)
    say(f"Starting Offramp (data in {layout.home}/)")
    start_servers(layout, ports, say)
    ensure_database(ports)
    ensure_issuer_key(layout)
    migrate_services(layout, ports, say)
    start_services(layout, ports, say)
    wait_until_ready(layout, ports, say)
    say("")
    say("Offramp is up:")
    say(
        f"  Console   http://127.0.0.1:{ports.console}   "
        "(open it and sign in as anyone of the seeded directory)"
    )
    for name in SERVICES:
        url = f"http://127.0.0.1:{ports.service(name)}"
        say(f"  {name:<9} {url}   (OpenAPI: {url}/docs)")
    say(f"  Temporal UI http://127.0.0.1:{ports.temporal_ui}")
    say(f"  NATS        nats://127.0.0.1:{ports.nats}")
    say(f"  PostgreSQL  postgresql://postgres@127.0.0.1:{ports.postgres}/offramp")
    say(f"  Mail sink   smtp://127.0.0.1:{ports.smtp}   (list what notify sent: make mail)")
    say("")
    say("Get a token (roles: officer, case_manager, supervisor, prosecutor, auditor, ...):")
    say(
        "  .venv/bin/offramp-token --sub officer-17 --role officer --agency oakland-sheriff "
        "--jurisdiction pontiac"
    )
    say(f"Logs in {layout.logs}/; stop everything with: make down")


def status(layout: Layout, ports: Ports, say: Say) -> int:
    pids = {**pidfiles.read_pids(layout.server_pids()), **pidfiles.read_pids(layout.service_pids())}
    if not pids:
        say("nothing is running")
        return 1
    for name, pid in pids.items():
        say(f"  {name:<9} pid {pid:<8} {'running' if pidfiles.is_running(pid) else 'stopped'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

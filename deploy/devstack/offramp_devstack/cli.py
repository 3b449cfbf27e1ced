"""`offramp-dev`: bring the whole system up on this machine, show it, take it down."""

import argparse
import sys
from pathlib import Path

from offramp_devstack import pidfiles
from offramp_devstack.mailsink import print_mail
from offramp_devstack.people import PEOPLE, token_for
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
    write_settings_file,
)
from offramp_devstack.status import status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="offramp-dev", description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status", "mail", "token", "demo"])
    parser.add_argument("role", nargs="?", help="token: the role (officer, case_manager, ...)")
    parser.add_argument(
        "--home", type=Path, default=Path(".offramp"), help="data, logs and pids (default .offramp)"
    )
    parser.add_argument("--full", action="store_true", help="mail: print each message's text too")
    args = parser.parse_args(argv)
    layout = Layout(args.home)
    if args.command == "mail":
        return print_mail(layout.mail, full=args.full)
    if args.command == "token":
        return _token(layout, args.role)
    # A stack already running keeps the ports it has; a fresh `up` takes the environment's.
    recorded = args.command != "up" or _anything_running(layout)
    ports = Ports.from_environment(layout.settings_file if recorded else None)
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
    if args.command == "demo":
        from offramp_devstack.demo import load_demo

        return load_demo(layout, ports, say)
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
    write_settings_file(layout, ports)
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
    say(
        f"  NATS        nats://127.0.0.1:{ports.nats}   (operator key: {layout.nats_credentials}/admin.nk)"
    )
    say(f"  PostgreSQL  postgresql://postgres@127.0.0.1:{ports.postgres}/offramp")
    say(f"  Mail sink   smtp://127.0.0.1:{ports.smtp}   (list what notify sent: make mail)")
    say("")
    say("A token for the README's people (officer, case_manager, supervisor, prosecutor, ...):")
    say("  make token ROLE=officer")
    say("Load a small living programme: make demo; check the ledger: make verify")
    say(f"Logs in {layout.logs}/; what runs: make status; stop everything with: make down")


def _token(layout: Layout, role: str | None) -> int:
    if role not in PEOPLE:
        print(
            f"offramp-dev token: give a role, one of {', '.join(sorted(PEOPLE))} "
            "(make token ROLE=officer)",
            file=sys.stderr,
        )
        return 2
    if not layout.key.is_file():
        print(
            f"offramp-dev token: no local issuer key at {layout.key}; start the system with "
            "`make up` first",
            file=sys.stderr,
        )
        return 2
    print(token_for(role, layout.key))
    return 0


def _anything_running(layout: Layout) -> bool:
    pids = {**pidfiles.read_pids(layout.server_pids()), **pidfiles.read_pids(layout.service_pids())}
    return any(pidfiles.is_running(pid) for pid in pids.values())


if __name__ == "__main__":
    raise SystemExit(main())

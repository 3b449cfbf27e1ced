"""A local mail sink: an SMTP server (aiosmtpd) that keeps every message it is given in a
Maildir, and a listing of what it holds. `make up` runs it as a process so that a new user sees
the e-mail notify sends (`offramp-dev mail`); the tests run it in a thread on a free port.

Nothing is relayed anywhere: this is where mail ends in development, never a mail server."""

import argparse
import mailbox
import signal
import sys
import threading
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox

from offramp_devstack._proc import ServerProcess, spawn, tcp_connects, wait_until_ready


@dataclass(frozen=True)
class Mail:
    key: str
    to: str
    sender: str
    subject: str
    date: str
    body: str
    headers: dict[str, str]


@dataclass
class MailSink:
    """A sink running in this process (tests)."""

    controller: Controller
    directory: Path
    port: int

    def stop(self) -> None:
        self.controller.stop()

    def messages(self) -> list[Mail]:
        return read_mail(self.directory)


def start_mail_sink(directory: Path, port: int, host: str = "127.0.0.1") -> MailSink:
    # A Maildir is three folders; `mailbox.Maildir` makes them only for a directory it creates.
    for folder in ("tmp", "new", "cur"):
        (directory / folder).mkdir(parents=True, exist_ok=True)
    controller = Controller(Mailbox(directory), hostname=host, port=port)
    controller.start()
    return MailSink(controller, directory, port)


def read_mail(directory: Path) -> list[Mail]:
    """Every message in the Maildir, oldest first."""
    if not (directory / "cur").is_dir():
        return []
    box = mailbox.Maildir(directory, create=False)
    found = [(key, message) for key, message in box.items()]
    found.sort(key=lambda item: item[1].get_date())
    return [_mail(key, message) for key, message in found]


def _mail(key: str, message: Message) -> Mail:
    body = message.get_payload(decode=True)
    text = (
        body.decode(message.get_content_charset() or "utf-8", "replace")
        if isinstance(body, bytes)
        else str(message.get_payload())
    )
    return Mail(
        key=key,
        to=str(message.get("To", "")),
        sender=str(message.get("From", "")),
        subject=str(message.get("Subject", "")),
        date=str(message.get("Date", "")),
        body=text,
        headers={name: str(value) for name, value in message.items()},
    )


def start_mail_sink_process(
    directory: Path, port: int, log_path: Path, timeout: float = 30
) -> ServerProcess:
    """The sink as a detached process, for `make up`."""
    argv = [
        sys.executable,
        "-m",
        "offramp_devstack.mailsink",
        "serve",
        "--dir",
        str(directory.resolve()),
        "--port",
        str(port),
    ]
    server = spawn("mail", argv, log_path.resolve())
    wait_until_ready(server, lambda: tcp_connects(port), timeout)
    return server


def print_mail(directory: Path, *, full: bool = False) -> int:
    messages = read_mail(directory)
    if not messages:
        print(f"no mail in {directory}")
        return 0
    for mail in messages:
        print(f"{mail.date}\tto {mail.to}\t{mail.subject}")
        if full:
            print(f"{mail.body.rstrip()}\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offramp_devstack.mailsink")
    parser.add_argument("command", choices=["serve", "list"])
    parser.add_argument("--dir", type=Path, required=True, help="the Maildir")
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--full", action="store_true", help="list: print the bodies too")
    args = parser.parse_args(argv)
    if args.command == "list":
        return print_mail(args.dir, full=args.full)
    sink = start_mail_sink(args.dir, args.port)
    print(f"mail sink listening on 127.0.0.1:{args.port}, keeping mail in {args.dir}", flush=True)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    stopping.wait()
    sink.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

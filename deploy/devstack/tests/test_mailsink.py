"""The mail sink keeps what it is sent and lists it back, in process and as `make up` runs it."""

import smtplib
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

from offramp_devstack import free_port
from offramp_devstack.mailsink import read_mail, start_mail_sink, start_mail_sink_process


def send(port: int, to: str, subject: str) -> None:
    message = EmailMessage()
    message["From"] = "notify@offramp.invalid"
    message["To"] = to
    message["Subject"] = subject
    message.set_content("Status: engaged.")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(message)


def test_mail_sent_to_the_sink_is_listed_with_its_text(tmp_path: Path) -> None:
    sink = start_mail_sink(tmp_path / "mail", free_port())
    try:
        send(sink.port, "officer-17@pd.test", "Progress report")
        [mail] = sink.messages()
    finally:
        sink.stop()
    assert (mail.to, mail.subject) == ("officer-17@pd.test", "Progress report")
    assert "Status: engaged." in mail.body


def test_the_sink_as_a_process_keeps_mail_that_the_listing_command_prints(tmp_path: Path) -> None:
    port = free_port()
    server = start_mail_sink_process(tmp_path / "mail", port, tmp_path / "mail.log")
    try:
        send(port, "ada-1@prosecutor.test", "A referral awaits your review")
    finally:
        server.stop()
    assert [m.subject for m in read_mail(tmp_path / "mail")] == ["A referral awaits your review"]
    listing = subprocess.run(
        [sys.executable, "-m", "offramp_devstack.mailsink", "list", "--dir", str(tmp_path / "mail")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "to ada-1@prosecutor.test\tA referral awaits your review" in listing.stdout

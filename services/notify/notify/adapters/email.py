"""E-mail over SMTP. The standard library's client, run in a thread: one short conversation per
message does not justify another dependency."""

import asyncio
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from notify.adapters.failures import DeliveryFailed


@dataclass(frozen=True)
class SmtpMailer:
    host: str
    port: int
    sender: str
    timeout_seconds: float = 10.0
    starttls: bool = False
    username: str | None = None
    password: str | None = None

    async def send(self, *, to: str, subject: str, body: str, delivery_id: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(usegmt=True)
        # The same Message-ID on every attempt lets a mail system drop a resent duplicate.
        message["Message-ID"] = make_msgid(idstring=delivery_id, domain="offramp.invalid")
        message["X-Offramp-Delivery"] = delivery_id
        message.set_content(body)
        try:
            await asyncio.to_thread(self._send_blocking, message)
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryFailed(f"SMTP {self.host}:{self.port}: {error!r}") from error

    def _send_blocking(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_seconds) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)

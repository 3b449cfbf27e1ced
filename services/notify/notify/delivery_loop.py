"""The delivery loop: works the `deliveries` table until every e-mail and webhook call is
delivered or parked. At least once: a row leaves `pending` only in the transaction that records
its outcome, so a crash between sending and recording sends again after the restart (the
webhook id and the e-mail's Message-ID stay the same, for the receiver to deduplicate).

One instance works at a time (a lease, like the outbox relay): two replicas must not send the
same delivery at the same moment, and a single sender keeps per-delivery attempts ordered.

Each attempt is a span continuing the trace of the consumer that owed the delivery (its context
is stored with the row), so the e-mail or webhook call, and the outcome event it records, are
part of the trace of the notification's cause."""

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from notify.adapters.email import SmtpMailer
from notify.adapters.failures import DeliveryFailed
from notify.adapters.notification_store import DELIVERIES_CHANNEL
from notify.adapters.records import record_outcome
from notify.adapters.webhooks import WebhookCaller
from notify.domain.retries import RetryPolicy
from servicekit.eventstore import EventStore
from servicekit.log import get_logger
from servicekit.single_writer import Wakeup, run_single_writer
from servicekit.tracing import continued

log = get_logger(__name__)

_DUE = """
SELECT d.delivery_id, d.channel, d.email, d.subscription_id, d.attempts, d.trace_context,
       s.url, s.secret, s.active AS subscription_active,
       m.message_id, m.jurisdiction, m.recipient_subject, m.recipient_agency, m.recipient_role,
       m.audience, m.trigger, m.subject, m.body, m.referral_id, m.case_id, m.coarse_status,
       m.caused_by, m.correlation_id, m.created_at
FROM deliveries d
JOIN in_app_messages m USING (message_id)
LEFT JOIN webhook_subscriptions s USING (subscription_id)
WHERE d.status = 'pending' AND d.next_attempt_at <= now()
ORDER BY d.next_attempt_at
LIMIT $1
"""


def webhook_body(row: asyncpg.Record) -> str:
    """The Standard Webhooks payload shape (type, timestamp, data); the same bytes on every
    attempt. It holds the notification's coarse text and identifiers, nothing else."""
    recipient = {"agency": row["recipient_agency"]}
    if row["recipient_subject"] is not None:
        recipient["subject"] = row["recipient_subject"]
    else:
        recipient["role"] = row["recipient_role"]
    return json.dumps(
        {
            "type": "offramp.notification",
            "timestamp": row["created_at"].astimezone(UTC).isoformat(),
            "data": {
                "notification_id": str(row["message_id"]),
                "jurisdiction": row["jurisdiction"],
                "trigger": row["trigger"],
                "recipient": recipient,
                "subject": row["subject"],
                "body": row["body"],
                "referral_id": str(row["referral_id"]) if row["referral_id"] else None,
                "case_id": str(row["case_id"]) if row["case_id"] else None,
                "coarse_status": row["coarse_status"],
            },
        },
        separators=(",", ":"),
    )


@dataclass
class DeliveryLoop:
    dsn: str
    schema: str
    pool: asyncpg.Pool
    store: EventStore
    mailer: SmtpMailer
    webhooks: WebhookCaller
    policy: RetryPolicy
    poll_seconds: float = 5.0
    batch_size: int = 20
    attempted: int = 0

    async def run(self) -> None:
        await run_single_writer(
            dsn=self.dsn, schema=self.schema, lease="delivery-loop", work=self._work_while_holding
        )

    async def _work_while_holding(self, session: asyncpg.Connection) -> None:
        wakeup = await Wakeup.listen(session, DELIVERIES_CHANNEL, "delivery loop")
        while True:
            wakeup.clear()
            # The lease lives on `session` while the work goes through the pool: each batch
            # starts only once the session answers, so a holder whose session was cut (and whose
            # lease a standby may hold now) stops within a batch, not at the next idle timeout.
            await session.fetchval("SELECT 1")
            while await self.work_once() == self.batch_size:
                await session.fetchval("SELECT 1")
            await wakeup.wait(await self._until_next_due())

    async def _until_next_due(self) -> float:
        seconds = await self.pool.fetchval(
            """SELECT extract(epoch FROM min(next_attempt_at) - now())::float8
               FROM deliveries WHERE status = 'pending'"""
        )
        if seconds is None:
            return self.poll_seconds
        return float(min(max(seconds, 0.01), self.poll_seconds))

    async def work_once(self) -> int:
        """Attempt every due delivery once, side by side; returns how many were due."""
        rows = await self.pool.fetch(_DUE, self.batch_size)
        await asyncio.gather(*(self._attempt(row) for row in rows))
        return len(rows)

    async def _attempt(self, row: asyncpg.Record) -> None:
        attempts = row["attempts"] + 1
        stored = row["trace_context"]
        with continued(
            f"deliver {row['channel']}",
            json.loads(stored) if stored else None,
            kind=SpanKind.CLIENT,
            attributes={
                "offramp.delivery.id": str(row["delivery_id"]),
                "offramp.delivery.channel": row["channel"],
                "offramp.delivery.attempt": attempts,
            },
        ) as span:
            await self._attempt_in(span, row, attempts)

    async def _attempt_in(self, span: Span, row: asyncpg.Record, attempts: int) -> None:
        error: str | None = None
        try:
            await self._send(row)
        except DeliveryFailed as failure:
            error = str(failure)
        except Exception as unexpected:
            log.exception("delivery failed unexpectedly", delivery_id=str(row["delivery_id"]))
            error = repr(unexpected)
        if error is not None:
            span.set_status(Status(StatusCode.ERROR, error[:300]))
        self.attempted += 1
        now = datetime.now(UTC)
        async with self.pool.acquire() as conn, conn.transaction():
            if error is None:
                outcome = "delivered"
                changed = await conn.execute(
                    """UPDATE deliveries SET status = 'delivered', attempts = $2,
                           finished_at = $3, last_error = NULL
                       WHERE delivery_id = $1 AND status = 'pending' AND attempts = $4""",
                    row["delivery_id"], attempts, now, row["attempts"],
                )  # fmt: skip
            elif self.policy.gives_up_after(attempts):
                outcome = "parked"
                changed = await conn.execute(
                    """UPDATE deliveries SET status = 'parked', attempts = $2, finished_at = $3,
                           last_error = $5
                       WHERE delivery_id = $1 AND status = 'pending' AND attempts = $4""",
                    row["delivery_id"], attempts, now, row["attempts"], error[:4000],
                )  # fmt: skip
            else:
                delay = self.policy.delay_after(attempts)
                await conn.execute(
                    """UPDATE deliveries SET attempts = $2, next_attempt_at = $3, last_error = $5
                       WHERE delivery_id = $1 AND status = 'pending' AND attempts = $4""",
                    row["delivery_id"], attempts, now + timedelta(seconds=delay),
                    row["attempts"], error[:4000],
                )  # fmt: skip
                log.warning(
                    "delivery failed; will retry",
                    delivery_id=str(row["delivery_id"]), channel=row["channel"],
                    attempt=attempts, delay=delay, error=error[:300],
                )  # fmt: skip
                return
            if changed != "UPDATE 1":
                return  # an operator or another attempt settled it meanwhile: record nothing
            await record_outcome(
                conn,
                self.store,
                delivery_id=row["delivery_id"],
                message=row,
                channel=row["channel"],
                attempts=attempts,
                at=now,
                subscription_id=row["subscription_id"],
                error=error,
            )
        # A parked delivery needs an operator: a warning, so it stands out of the log.
        (log.warning if outcome == "parked" else log.info)(
            f"delivery {outcome}", delivery_id=str(row["delivery_id"]), channel=row["channel"],
            attempts=attempts,
        )  # fmt: skip

    async def _send(self, row: asyncpg.Record) -> None:
        if row["channel"] == "email":
            await self.mailer.send(
                to=row["email"],
                subject=f"[Offramp] {row['subject']}",
                body=f"{row['body']}\n\nThis message is also in your Offramp inbox.\n",
                delivery_id=str(row["delivery_id"]),
            )
            return
        if not row["subscription_active"]:
            raise DeliveryFailed("the webhook subscription was removed")
        await self.webhooks.post(
            url=row["url"],
            secret=row["secret"],
            webhook_id=f"msg_{row['delivery_id'].hex}",
            body=webhook_body(row),
        )

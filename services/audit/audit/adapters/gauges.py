"""Audit's own series for `/metrics`: the ledger's head, its checkpoints, and what the last
verification found."""

import asyncpg

from audit.settings import AuditSettings
from servicekit.metrics import ServiceMetrics


class LedgerGauges:
    def __init__(self, metrics: ServiceMetrics, settings: AuditSettings) -> None:
        self.entries = metrics.gauge(
            "ledger_entries",
            "Entries in the ledger (its head's sequence number); deriv() is entries per second.",
        )
        self.checkpoints = metrics.gauge("ledger_checkpoints", "Signed checkpoints.")
        self.unsigned = metrics.gauge(
            "ledger_entries_since_checkpoint", "Entries no checkpoint covers yet."
        )
        self.checkpoint_age = metrics.gauge(
            "ledger_last_checkpoint_age_seconds",
            "Seconds since the last checkpoint was signed (0 while the ledger has none).",
        )
        self.cadence = metrics.gauge(
            "ledger_checkpoint_every_seconds",
            "The configured checkpoint cadence: a checkpoint older than this while entries "
            "wait for one means checkpoints are not being signed.",
        )
        self.cadence.set(settings.checkpoint_every_seconds)
        self.failing = metrics.gauge(
            "ledger_verify_failing",
            "1 while the last verification found the ledger broken; 0 when it was intact, "
            "and before the first.",
        )
        self.verifications = metrics.counter(
            "ledger_verifications", "Verifications of the whole ledger, by outcome.", ["outcome"]
        )
        metrics.on_scrape(self.read)

    async def read(self, conn: asyncpg.Connection) -> None:
        head = int(await conn.fetchval("SELECT coalesce(max(seq), 0) FROM ledger"))
        latest = await conn.fetchrow(
            """SELECT number, tree_size, extract(epoch FROM now() - stored_at) AS age
               FROM checkpoints ORDER BY number DESC LIMIT 1"""
        )
        self.entries.set(head)
        self.checkpoints.set(latest["number"] if latest else 0)
        self.unsigned.set(head - (latest["tree_size"] if latest else 0))
        self.checkpoint_age.set(float(latest["age"]) if latest else 0.0)

    def verified(self, intact: bool) -> None:
        self.failing.set(0 if intact else 1)
        self.verifications.labels("intact" if intact else "broken").inc()

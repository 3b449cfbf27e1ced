"""Checkpoints in Postgres: signed when due, stored, and announced as CheckpointSigned in the
same transaction, so a stored checkpoint is always published and a published one stored."""

from dataclasses import asdict
from datetime import UTC, datetime

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.adapters.ledger_store import LedgerHead
from audit.domain.checkpoint import (
    CheckpointBody,
    CheckpointPolicy,
    SignedCheckpoint,
    checkpoint_due,
    key_id,
    sign_checkpoint,
)
from offramp_contracts.events.audit import CheckpointSigned
from servicekit.events import derived_event_id, new_event, system_actor
from servicekit.eventstore import EventStore
from servicekit.log import get_logger

CHECKPOINT_STREAM = "ledger-checkpoints"
_COLUMNS = "number, origin, tree_size, root_hash, chain_head, signed_at, key_id, signature"

log = get_logger(__name__)


def _from_row(row: asyncpg.Record) -> SignedCheckpoint:
    fields = dict(row)
    signature = fields.pop("signature")
    return SignedCheckpoint(CheckpointBody(**fields), signature)


async def all_checkpoints(conn: asyncpg.Connection | asyncpg.Pool) -> list[SignedCheckpoint]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM checkpoints ORDER BY number")
    return [_from_row(row) for row in rows]


async def checkpoint(
    conn: asyncpg.Connection | asyncpg.Pool, number: int | None = None
) -> SignedCheckpoint | None:
    """Checkpoint `number`, or the latest when None."""
    row = await conn.fetchrow(
        f"""SELECT {_COLUMNS} FROM checkpoints
            WHERE $1::bigint IS NULL OR number = $1 ORDER BY number DESC LIMIT 1""",
        number,
    )
    return _from_row(row) if row else None


def _signed_at(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Checkpointer:
    """Signs the writer's head when the policy says so. Used only by the writer holding the
    lease, on its session: checkpoint numbers are as gapless as the ledger."""

    def __init__(
        self,
        *,
        key: Ed25519PrivateKey,
        policy: CheckpointPolicy,
        origin: str,
        jurisdiction: str,
        store: EventStore,
    ) -> None:
        self._key = key
        self._key_id = key_id(key.public_key())
        self._policy = policy
        self._origin = origin
        self._jurisdiction = jurisdiction
        self._store = store

    async def sign_if_due(
        self, conn: asyncpg.Connection, head: LedgerHead
    ) -> SignedCheckpoint | None:
        last = await checkpoint(conn)
        signed_size = last.body.tree_size if last else 0
        pending = await conn.fetchrow(
            """SELECT count(*) AS events,
                      extract(epoch FROM clock_timestamp() - min(appended_at))::float8 AS age
               FROM ledger WHERE seq > $1 AND subject NOT LIKE '%.audit.CheckpointSigned'""",
            signed_size,
        )
        if head.size <= signed_size or not checkpoint_due(
            self._policy,
            unsigned_events=pending["events"],
            oldest_unsigned_age_seconds=pending["age"],
        ):
            return None
        return await self.sign(conn, head, number=(last.body.number if last else 0) + 1)

    async def sign(
        self, conn: asyncpg.Connection, head: LedgerHead, *, number: int
    ) -> SignedCheckpoint:
        now = datetime.now(UTC)
        signed = sign_checkpoint(
            CheckpointBody(
                origin=self._origin,
                number=number,
                tree_size=head.size,
                root_hash=head.frontier.root().hex(),
                chain_head=head.hash,
                signed_at=_signed_at(now),
                key_id=self._key_id,
            ),
            self._key,
        )
        announcement = new_event(
            CheckpointSigned(**asdict(signed.body), signature=signed.signature),
            stream_id=CHECKPOINT_STREAM,
            stream_version=number,
            jurisdiction=self._jurisdiction,
            actor=system_actor("audit"),
            correlation_id=derived_event_id(f"{self._origin}/checkpoint/{number}", now),
            causation_id=None,
            event_id=derived_event_id(f"{self._origin}/checkpoint/{number}/event", now),
        )
        async with conn.transaction():
            body = signed.body
            await conn.execute(
                f"INSERT INTO checkpoints ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                body.number,
                body.origin,
                body.tree_size,
                body.root_hash,
                body.chain_head,
                body.signed_at,
                body.key_id,
                signed.signature,
            )
            await self._store.append(conn, CHECKPOINT_STREAM, number - 1, [announcement])
        log.info(
            "checkpoint signed",
            checkpoint=body.number,
            tree_size=body.tree_size,
            root_hash=body.root_hash,
            key_id=body.key_id,
        )
        return signed

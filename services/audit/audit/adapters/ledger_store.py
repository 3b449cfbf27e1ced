"""The ledger in Postgres: appending events once each in batches, reading entries back, and
walking the whole ledger against its checkpoints."""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.domain.chain import (
    GENESIS_HASH,
    StoredEntry,
    canonical,
    canonical_entry,
    chain_hash,
    ledger_entry,
)
from audit.domain.checkpoint import SignedCheckpoint
from audit.domain.merkle import TreeFrontier
from audit.domain.verification import LedgerReport, LedgerWalk
from audit.settings import LEDGER_DB_ROLE
from offramp_contracts import EventEnvelope
from servicekit.provenance import Keys, Provenance

# Any role may take this lock; holding it for the length of an append's transaction is what
# makes "read the head, insert head + 1" safe whoever appends.
_APPEND_LOCK = "SELECT pg_advisory_xact_lock(hashtext('audit-ledger-writer'))"
_LEAF_HASH = "sha256('\\x00'::bytea || convert_to(entry, 'UTF8'))"


@dataclass(frozen=True)
class Arrival:
    """An event as it arrived on the bus, with the subject it travelled on."""

    subject: str
    event: EventEnvelope
    # Its proven producer (the writer checks before appending); None only in the ledger's own
    # tests, and `verify` names such an entry as unsigned.
    provenance: Provenance | None = None
    # The event's RFC 8785 bytes, made once on receipt (`canonical_event`); None: made when
    # the entry is.
    canonical_event: bytes | None = None


@dataclass(frozen=True)
class Appended:
    seq: int
    event_id: UUID
    subject: str
    entry: bytes
    previous_hash: str
    hash: str
    provenance: Provenance | None = None


@dataclass
class LedgerHead:
    """The ledger's size, last hash and Merkle frontier, as the single writer keeps them."""

    frontier: TreeFrontier
    hash: str

    @property
    def size(self) -> int:
        return self.frontier.size


def canonical_event(event: EventEnvelope) -> bytes:
    """The event's RFC 8785 bytes, as every entry holding it holds them. Raises rfc8785's
    CanonicalizationError (a ValueError) for data JSON cannot carry exactly."""
    return canonical(json.loads(event.model_dump_json()))


def entry_bytes(seq: int, arrival: Arrival) -> bytes:
    """What is stored and hashed for an arrival at `seq`: the canonical entry."""
    if arrival.canonical_event is not None:
        return canonical_entry(seq, arrival.subject, arrival.canonical_event)
    return canonical(
        ledger_entry(seq, arrival.subject, json.loads(arrival.event.model_dump_json()))
    )


# One statement for the whole batch, prepared once per session: the rows go as arrays.
_INSERT_BATCH = """
    INSERT INTO ledger (seq, event_id, subject, entry, previous_hash, hash,
                        producer, key_id, signature)
    SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[], $5::text[],
                         $6::text[], $7::text[], $8::text[], $9::text[])"""


async def append_batch(conn: asyncpg.Connection, arrivals: Sequence[Arrival]) -> list[Appended]:
    """Append, in order, every arrival whose event is not in the ledger yet (an event id appears
    once however often it is delivered). Runs in the caller's transaction, so the entries
    commit together or not at all; serialised with any other appender, so the sequence stays
    gapless and each entry hashes onto the committed head."""
    if not conn.is_in_transaction():
        raise RuntimeError("append_batch must run inside the caller's transaction")
    # Its own statement, before anything is read: a statement reads the snapshot taken when it
    # began, so the head must be read by one that starts after the lock is held.
    await conn.execute(_APPEND_LOCK)
    known = await conn.fetchrow(
        """SELECT ARRAY(SELECT event_id FROM ledger WHERE event_id = ANY($1::uuid[])) AS present,
                  (SELECT seq FROM ledger ORDER BY seq DESC LIMIT 1) AS seq,
                  (SELECT hash FROM ledger ORDER BY seq DESC LIMIT 1) AS hash""",
        [a.event.event_id for a in arrivals],
    )
    present = set(known["present"])
    seq = known["seq"] or 0
    previous = known["hash"] or GENESIS_HASH
    appended: list[Appended] = []
    for arrival in arrivals:
        if arrival.event.event_id in present:
            continue
        present.add(arrival.event.event_id)
        seq += 1
        body = entry_bytes(seq, arrival)
        digest = chain_hash(previous, body)
        appended.append(
            Appended(
                seq,
                arrival.event.event_id,
                arrival.subject,
                body,
                previous,
                digest,
                arrival.provenance,
            )
        )
        previous = digest
    if appended:
        signed = [a.provenance for a in appended]
        await conn.execute(
            _INSERT_BATCH,
            [a.seq for a in appended],
            [a.event_id for a in appended],
            [a.subject for a in appended],
            [a.entry.decode() for a in appended],
            [a.previous_hash for a in appended],
            [a.hash for a in appended],
            [p.producer if p else None for p in signed],
            [p.key_id if p else None for p in signed],
            [p.signature if p else None for p in signed],
        )
    return appended


async def append(conn: asyncpg.Connection, subject: str, event: EventEnvelope) -> Appended | None:
    """Append one event unless it is already in the ledger."""
    appended = await append_batch(conn, [Arrival(subject, event)])
    return appended[0] if appended else None


async def read_head(conn: asyncpg.Connection) -> LedgerHead:
    """The writer's starting point: the frontier of every leaf so far. Postgres hashes the
    leaves, so only 32 bytes per entry cross the wire."""
    frontier = TreeFrontier()
    last_hash = GENESIS_HASH
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        async for row in conn.cursor(f"SELECT {_LEAF_HASH} AS leaf, hash FROM ledger ORDER BY seq"):
            frontier.append(bytes(row["leaf"]))
            last_hash = row["hash"]
    return LedgerHead(frontier, last_hash)


async def leaf_hashes(conn: asyncpg.Connection | asyncpg.Pool, tree_size: int) -> list[bytes]:
    rows = await conn.fetch(
        f"SELECT {_LEAF_HASH} AS leaf FROM ledger WHERE seq <= $1 ORDER BY seq", tree_size
    )
    if len(rows) != tree_size:
        raise LookupError(f"the ledger holds {len(rows)} entries, not the {tree_size} asked for")
    return [bytes(row["leaf"]) for row in rows]


async def entries(
    conn: asyncpg.Connection | asyncpg.Pool, *, after_seq: int, limit: int, up_to: int | None = None
) -> list[StoredEntry]:
    rows = await conn.fetch(
        """SELECT seq, entry, previous_hash, hash, producer, key_id, signature FROM ledger
           WHERE seq > $1 AND ($3::bigint IS NULL OR seq <= $3) ORDER BY seq LIMIT $2""",
        after_seq,
        limit,
        up_to,
    )
    return [StoredEntry(**dict(row)) for row in rows]


async def signing_cutover(conn: asyncpg.Connection | asyncpg.Pool) -> int:
    """The last entry appended before events were signed (migration 0005 recorded it)."""
    return int(await conn.fetchval("SELECT last_unsigned_seq FROM signing_cutover"))


async def size(conn: asyncpg.Connection | asyncpg.Pool) -> int:
    return int(await conn.fetchval("SELECT coalesce(max(seq), 0) FROM ledger"))


Progress = Callable[[int], object]


async def walk(
    pool: asyncpg.Pool,
    checkpoints: Sequence[SignedCheckpoint],
    trusted_keys: dict[str, Ed25519PublicKey],
    producer_keys: Keys | None = None,
    *,
    batch_size: int = 5000,
    progress: Progress | None = None,
) -> LedgerReport:
    """Verify every entry, who wrote it (given the producers' keys), and every checkpoint;
    `progress` hears how many entries each batch held."""
    walker = LedgerWalk(
        checkpoints, trusted_keys, producer_keys, unsigned_through=await signing_cutover(pool)
    )
    after = 0
    while True:
        batch = await entries(pool, after_seq=after, limit=batch_size)
        if not batch or not walker.feed(batch):
            return walker.report()
        if progress is not None:
            progress(len(batch))
        after = batch[-1].seq


async def _no_session_state(conn: asyncpg.Connection) -> None:
    """Nothing a ledger session sets outlives its transaction: the role is a setting of the
    session's start (which RESET ALL would keep anyway), the append lock is a transaction's,
    and nobody listens or keeps a cursor open on these sessions. asyncpg still rolls back a
    transaction left open before calling this, so skipping its reset query (CLOSE ALL,
    UNLISTEN *, RESET ALL, advisory unlock) saves a round trip on every read of the ledger."""


async def ledger_pool(dsn: str, schema: str, *, max_size: int = 5) -> asyncpg.Pool:
    """Sessions that act as the ledger role: they can add to the ledger and read it, and the
    database refuses them anything else, whatever the login role may do."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=1,
        max_size=max_size,
        server_settings={
            "search_path": schema,
            "application_name": f"offramp-{schema}-ledger",
            "role": LEDGER_DB_ROLE,
        },
        reset=_no_session_state,
    )
    assert pool is not None
    return pool

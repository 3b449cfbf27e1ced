"""Where `servicekit.idempotency` keeps its keys: the `idempotency_keys` table, one row per
(owner, key) holding the request's fingerprint and, once it ran, its answer."""

import json
from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


@dataclass(frozen=True)
class AnswerBook:
    """The `idempotency_keys` table, on a pool of its own: a claim holds its connection while
    the request runs, and must never wait for a connection the request itself needs."""

    pool: asyncpg.Pool

    async def claim(
        self, conn: asyncpg.Connection, owner: str, key: str, print_: str
    ) -> tuple[str, Answer] | None:
        """None if this request now holds the key; else the first request's fingerprint and
        answer (waits for a request still running under the key)."""
        claimed = await conn.fetchval(
            """INSERT INTO idempotency_keys (owner, idempotency_key, fingerprint, status, headers,
                                             body)
               VALUES ($1, $2, $3, 0, '[]', '') ON CONFLICT DO NOTHING RETURNING 1""",
            owner,
            key,
            print_,
        )
        if claimed:
            return None
        row = await conn.fetchrow(
            """SELECT fingerprint, status, headers, body FROM idempotency_keys
               WHERE owner = $1 AND idempotency_key = $2""",
            owner,
            key,
        )
        assert row is not None, "a key's row is deleted never"
        headers = [
            (n.encode("latin-1"), v.encode("latin-1")) for n, v in json.loads(row["headers"])
        ]
        return row["fingerprint"], Answer(row["status"], headers, bytes(row["body"]))

    async def keep(self, conn: asyncpg.Connection, owner: str, key: str, answer: Answer) -> None:
        await conn.execute(
            """UPDATE idempotency_keys SET status = $3, headers = $4::jsonb, body = $5,
                                           answered_at = now()
               WHERE owner = $1 AND idempotency_key = $2""",
            owner,
            key,
            answer.status,
            json.dumps([[n.decode("latin-1"), v.decode("latin-1")] for n, v in answer.headers]),
            answer.body,
        )

"""Ledger verify and as-of replay: entries per second, against a raw read of the same rows on the
same Postgres.

The ledger is filled as the ingest benchmark fills it (audit as its own process taking whole
case histories off the bus). Verify is `GET /ledger/verify` over all of it; its baseline reads
the same rows in the same batches with asyncpg. As-of replay is `GET /ledger/cases/{id}/as-of`
for cases spread over the whole ledger, one after another; its baseline reads each case's rows
by their sequence numbers. As-of runs twice: on the ledger as the fill left it (without planner
statistics, as after any bulk load, unless autovacuum got to it meanwhile: the row says which)
and after `ANALYZE`.
"""

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from bench.harness import Run, closed_loop, loadavg, report, servers
from bench.ingest import SIZES, fill
from bench.system import stack, started

REPLAYED = {"smoke": 5, "quick": 50, "full": 500}
VERIFY_BATCH = 5000  # the rows `verify` reads at a time


@dataclass(frozen=True)
class Replay:
    run: Run
    seqs: list[list[int]]  # each case's entries, as the as-of answer listed them

    @property
    def entries(self) -> int:
        return sum(len(s) for s in self.seqs)


async def measure(size: str) -> None:
    load = loadavg()
    with servers() as running:
        config = await stack(running, "bench_replay")
        async with started(config, "audit") as up:
            case_ids = (await fill(config, SIZES[size])).case_ids
            step = max(1, len(case_ids) // REPLAYED[size])
            replayed = case_ids[::step][: REPLAYED[size]]
            auditor = config.token("auditor-1", "auditor", "county-audit")
            conn = await config.connect("audit")
            async with httpx.AsyncClient(
                base_url=up["audit"].url,
                headers={"Authorization": f"Bearer {auditor}"},
                timeout=600,
            ) as client:
                try:
                    verified, verify_seconds = await verify(client)
                    raw_seconds = await raw_read(conn)
                    # Autovacuum may have analysed the ledger during a long fill: say so.
                    analysed_by_then = await conn.fetchval(
                        "SELECT coalesce(last_autoanalyze, last_analyze) IS NOT NULL "
                        "FROM pg_stat_user_tables WHERE relname = 'ledger'"
                    )
                    fresh = await as_of(client, replayed)
                    await conn.execute("ANALYZE ledger")
                    analysed = await as_of(client, replayed)
                    raw_replay = await raw_rows(conn, fresh.seqs)
                    raw_audited = await raw_audited_rows(conn, fresh.seqs)
                finally:
                    await conn.close()
    ours, theirs = verified / verify_seconds, verified / raw_seconds
    rows: list[dict[str, Any]] = [
        {
            "operation": "verify",
            "entries": verified,
            "entries_per_s": round(ours, 1),
            "raw_read_per_s": round(theirs, 1),
            "ratio": round(ours / theirs, 3),
        },
        _as_of_row(
            "as-of, as autovacuum left it" if analysed_by_then else "as-of, no statistics yet",
            fresh,
            raw_replay,
        ),
        _as_of_row("as-of, after ANALYZE", analysed, raw_replay),
        {
            **_as_of_row(
                "as-of, after ANALYZE, against an audited raw read", analysed, raw_audited
            ),
            "raw_read_per_s": round(analysed.entries / raw_audited.seconds, 1),
        },
    ]
    report(
        "ledger_replay",
        size,
        rows,
        load_before=load,
        notes=(
            f"a ledger of {verified} entries ({SIZES[size]} case histories and checkpoints); "
            f"verify walks all of it, as-of rebuilds {len(replayed)} cases spread over it, one "
            f"after another; raw: the same rows read with asyncpg ({VERIFY_BATCH} a batch for "
            "verify, each case's by sequence number for as-of; the audited raw read adds one "
            "committed insert of an access event's size to each case's read)"
        ),
    )


def _as_of_row(operation: str, replay: Replay, raw: Run) -> dict[str, Any]:
    ours, theirs = replay.run.summary(), raw.summary()
    return {
        "operation": operation,
        "entries": replay.entries,
        "entries_per_s": round(replay.entries / replay.run.seconds, 1),
        "raw_read_per_s": round(replay.entries / raw.seconds, 1),
        "ratio": round(raw.seconds / replay.run.seconds, 3),
        "case_p50_ms": ours["p50_ms"],
        "case_p99_ms": ours["p99_ms"],
        "raw_case_p50_ms": theirs["p50_ms"],
    }


async def verify(client: httpx.AsyncClient) -> tuple[int, float]:
    began = time.perf_counter()
    response = await client.get("/ledger/verify")
    seconds = time.perf_counter() - began
    if response.status_code != 200 or not response.json()["intact"]:
        raise RuntimeError(f"the ledger did not verify: {response.text}")
    return int(response.json()["entries_checked"]), seconds


async def as_of(client: httpx.AsyncClient, case_ids: list[UUID]) -> Replay:
    """Each case as it stands now: every entry of it, folded by the case lifecycle."""
    at = datetime.now(UTC).isoformat()
    seqs: list[list[int]] = [[] for _ in case_ids]

    async def rebuild(n: int) -> None:
        response = await client.get(f"/ledger/cases/{case_ids[n]}/as-of", params={"at": at})
        state = response.json().get("state") or {}
        if response.status_code != 200 or state.get("phase") != "closed":
            raise RuntimeError(f"case {case_ids[n]} was not rebuilt: {response.text}")
        seqs[n] = [entry["seq"] for entry in response.json()["entries"]]

    run = await closed_loop(rebuild, count=len(case_ids), concurrency=1)
    return Replay(run, seqs)


async def raw_read(conn: asyncpg.Connection) -> float:
    """The rows verify reads, in the batches it reads them, and nothing else."""
    after = 0
    began = time.perf_counter()
    while True:
        rows = await conn.fetch(
            "SELECT seq, entry, previous_hash, hash FROM ledger WHERE seq > $1 "
            "ORDER BY seq LIMIT $2",
            after,
            VERIFY_BATCH,
        )
        if not rows:
            return time.perf_counter() - began
        after = rows[-1]["seq"]


async def raw_rows(conn: asyncpg.Connection, seqs: list[list[int]]) -> Run:
    async def read(n: int) -> None:
        await conn.fetch("SELECT seq, entry FROM ledger WHERE seq = ANY($1::bigint[])", seqs[n])

    return await closed_loop(read, count=len(seqs), concurrency=1)


async def raw_audited_rows(conn: asyncpg.Connection, seqs: list[list[int]]) -> Run:
    """The floor of an audited read: the same rows, then one committed insert of a row the size
    of an access event (every as-of answer waits for its RecordAccessed to commit)."""
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS public.bench_reads (id bigserial PRIMARY KEY, body jsonb)"
    )
    body = json.dumps({"event_type": "RecordAccessed", "data": {"x" * 40: "y" * 600}})

    async def read(n: int) -> None:
        await conn.fetch("SELECT seq, entry FROM ledger WHERE seq = ANY($1::bigint[])", seqs[n])
        await conn.execute("INSERT INTO public.bench_reads (body) VALUES ($1::jsonb)", body)

    return await closed_loop(read, count=len(seqs), concurrency=1)


def main(size: str) -> None:
    asyncio.run(measure(size))

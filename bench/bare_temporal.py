"""The bare Temporal baseline: a trivial workflow that runs one activity, which stores a row and
publishes it on the bus (as CaseTimeline's first activity stores CaseOpened and the relay
publishes it), and then stays open, as a case timeline does.

Its worker runs as its own process, like casework's, so their memory compares:

    python -m bench.bare_temporal --temporal ADDRESS --task-queue QUEUE --dsn DSN --nats URL --nats-seed FILE
"""

import argparse
import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    import asyncpg
    import nats
    from nats.js import JetStreamContext
    from nats.js.api import StreamConfig
    from temporalio.client import Client
    from temporalio.worker import Worker

    from bench.harness import process

WORKFLOW = "BareTimeline"
TASK_QUEUE = "bare-bench"
STREAM = "RAWCHAIN"
OPENED_SUBJECT = "rawchain.opened"
TABLE = "CREATE TABLE IF NOT EXISTS bare_cases (case_id text PRIMARY KEY)"


@workflow.defn(name=WORKFLOW)
class BareTimeline:
    @workflow.run
    async def run(self, case_id: str) -> None:
        await workflow.execute_activity(
            "open_bare_case", case_id, start_to_close_timeout=timedelta(seconds=10)
        )
        await workflow.wait_condition(lambda: False)


class BareActivities:
    def __init__(self, pool: asyncpg.Pool, js: JetStreamContext) -> None:
        self._pool = pool
        self._js = js

    @activity.defn(name="open_bare_case")
    async def open_bare_case(self, case_id: str) -> None:
        await self._pool.execute(
            "INSERT INTO bare_cases (case_id) VALUES ($1) ON CONFLICT DO NOTHING", case_id
        )
        await self._js.publish(OPENED_SUBJECT, case_id.encode(), stream=STREAM)


async def prepare(dsn: str, js: JetStreamContext) -> None:
    """The table and stream the activity writes to; the benchmark calls it before starting a
    worker, so that whatever watches them can start first."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(TABLE)
    finally:
        await conn.close()
    await js.add_stream(StreamConfig(name=STREAM, subjects=["rawchain.>"]))


@asynccontextmanager
async def bare_worker_process(
    home: Path, temporal: str, dsn: str, nats_url: str, nats_seed: Path
) -> AsyncIterator[int]:
    """The worker as its own process; yields its pid."""
    argv = ["python", "-m", "bench.bare_temporal", "--temporal", temporal, "--dsn", dsn]
    argv += ["--nats", nats_url, "--nats-seed", str(nats_seed)]
    async with process(argv, {}, home / "bare-worker.log") as started:
        yield started.pid


async def serve(args: argparse.Namespace) -> None:
    client = await Client.connect(args.temporal)
    pool = await asyncpg.create_pool(args.dsn, min_size=1, max_size=4)
    bus = await nats.connect(args.nats, nkeys_seed=args.nats_seed)
    activities = BareActivities(pool, bus.jetstream())
    worker = Worker(
        client,
        task_queue=args.task_queue,
        workflows=[BareTimeline],
        activities=[activities.open_bare_case],
    )
    await worker.run()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bare_temporal", description=__doc__)
    parser.add_argument("--temporal", required=True)
    parser.add_argument("--task-queue", default=TASK_QUEUE)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--nats", required=True)
    parser.add_argument("--nats-seed", required=True, help="the NKEY seed file of a bus user")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()

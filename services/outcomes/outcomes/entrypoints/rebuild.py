"""A read model rebuilt from all history: `offramp-audit redrive` publishes the ledger to a
stream of its own, and this folds that stream into the schema the settings name (empty, or one
that already holds some of it: the inbox skips what it has folded), with a progress bar, until
every message of the stream is handled. Each fetched batch is folded in one transaction
(`servicekit.batch_inbox`); an interrupted rebuild resumes from its durable consumer, and one
run again (or over a second redrive of the same ledger) folds no event twice."""

import asyncio
import contextlib

from tqdm import tqdm

from outcomes.adapters.read_model import PostgresReadModel
from outcomes.domain.facts import Pseudonymiser
from outcomes.settings import OutcomesSettings
from outcomes.use_cases import FoldIntoReadModel
from servicekit.batch_inbox import BatchInboxConsumer
from servicekit.database import create_pool
from servicekit.event_keys import Keyring, keyring_dir
from servicekit.inbox import ConsumerPolicy
from servicekit.jetstream import connect_nats, nats_identity
from servicekit.migrations import Migration
from servicekit.schema import prepare_schema

POLL_SECONDS = 0.2


async def rebuild(
    settings: OutcomesSettings,
    pseudonym: Pseudonymiser,
    pending_migrations: list[Migration],
    *,
    stream: str,
    subject_root: str,
    consumer_name: str,
    progress: bool = True,
) -> int:
    """Returns how many events were folded now."""
    await prepare_schema(settings, pending_migrations)
    pool = await create_pool(settings.database_url, settings.db_schema, max_size=4)
    # The redriven stream is not the service's own: its user (or the operator's, with
    # OFFRAMP_NATS_NKEY_SEED_PATH) must be allowed on it, as for `offramp-audit redrive`.
    nc = await connect_nats(
        settings.nats_url, f"{settings.service_name}-rebuild", nats_identity(settings)
    )
    try:
        js = nc.jetstream()
        total = (await js.stream_info(stream)).state.last_seq
        model = PostgresReadModel(pool)
        fold = FoldIntoReadModel(model, pseudonym)
        consumer = BatchInboxConsumer(
            pool=pool,
            js=js,
            stream=stream,
            name=f"{consumer_name}-rebuild",
            subjects=[f"{subject_root}.>"],
            handler=fold,
            batch_handler=fold.batch,
            # Redriven events keep their producers' signatures: checked as on the live stream.
            keyring=Keyring(keyring_dir(settings)),
            policy=ConsumerPolicy(
                max_attempts=settings.consumer_max_attempts,
                ack_wait_seconds=settings.consumer_ack_wait_seconds,
                batch_size=256,
                fetch_timeout_seconds=0.5,
            ),
        )
        running = asyncio.create_task(consumer.run())
        bar = tqdm(total=total, unit="event", disable=not progress, desc="rebuilding")
        try:
            while True:
                await asyncio.sleep(POLL_SECONDS)
                if running.done():
                    running.result()
                try:
                    info = await js.consumer_info(stream, consumer.name)
                except Exception:  # not created yet
                    continue
                done = info.ack_floor.stream_seq if info.ack_floor else 0
                bar.update((done or 0) - bar.n)
                if (done or 0) >= total and not info.num_pending and not info.num_ack_pending:
                    break
        finally:
            bar.close()
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
        await model.analyse()
        return consumer.handled
    finally:
        await nc.drain()
        await pool.close()

"""The single-writer loop, written once (ADR 0003, ADR 0011): the outbox relay, notify's
delivery loop and audit's ledger writer each run one active instance among replicas.

`run_single_writer` stands by for the lease (`servicekit.lease`), runs the writer's work on the
session that holds it, and when the work fails or the session is lost, logs why and starts
over: a standby replica may win the lease meanwhile. `Wakeup` is the LISTEN on that session that
wakes the writer when something was committed for it, with a slow poll as the backstop for a
notification lost while the session reconnected.
"""

import asyncio
from collections.abc import Awaitable, Callable

import asyncpg

from servicekit.lease import hold_lease
from servicekit.log import get_logger
from servicekit.outages import is_outage

log = get_logger(__name__)

Work = Callable[[asyncpg.Connection], Awaitable[None]]


async def run_single_writer(
    *,
    dsn: str,
    schema: str,
    lease: str,
    work: Work,
    lease_retry_seconds: float = 2.0,
    restart_seconds: float = 1.0,
) -> None:
    """Hold the lease `lease` of `schema` and run `work(session)` while holding it; after any
    failure (an outage is logged as a warning, anything else with its traceback) wait
    `restart_seconds` and start over. Returns never; cancel it to stop."""
    while True:
        try:
            async with hold_lease(dsn, schema, lease, retry_seconds=lease_retry_seconds) as session:
                await work(session)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if is_outage(error):
                log.warning(
                    "single writer waiting for the database or the bus",
                    lease=f"{schema}:{lease}",
                    error=repr(error)[:300],
                )
            else:
                log.exception("single writer failed; restarting", lease=f"{schema}:{lease}")
        await asyncio.sleep(restart_seconds)


class Wakeup:
    """A LISTEN on the lease session: `wait` returns when the channel is notified or the
    timeout passes, and raises ConnectionError if the session was lost meanwhile (so the loop
    starts over and takes the lease again)."""

    def __init__(self, session: asyncpg.Connection, what: str) -> None:
        self._session = session
        self._what = what
        self._event = asyncio.Event()

    @classmethod
    async def listen(cls, session: asyncpg.Connection, channel: str, what: str) -> "Wakeup":
        wakeup = cls(session, what)
        await session.add_listener(channel, lambda *_: wakeup._event.set())
        return wakeup

    def clear(self) -> None:
        """Forget notifications so far: call before working through what is there."""
        self._event.clear()

    async def wait(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._event.wait(), timeout=seconds)
        except TimeoutError:
            if self._session.is_closed():
                raise ConnectionError(f"{self._what}'s lease session closed") from None

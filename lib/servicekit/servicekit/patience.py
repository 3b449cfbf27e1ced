"""A patient start: a service started before PostgreSQL, NATS or Temporal answers waits for
it, with back-off, and says in its log what it waits for and where, instead of exiting.

Servers and services come up in any order under a supervisor (systemd, Kubernetes, `make up`
after a reboot); a service that exits because the database was a second late only adds a
restart loop. What is not an outage (a wrong password, a database that does not exist, a bad
setting) still stops the start at once: waiting would not fix it.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from servicekit.log import get_logger
from servicekit.outages import is_outage

T = TypeVar("T")

log = get_logger(__name__)

FIRST_PAUSE_SECONDS = 0.5
LONGEST_PAUSE_SECONDS = 10.0


async def once_reachable(
    dependency: str,
    where: str,
    attempt: Callable[[], Awaitable[T]],
    *,
    also_unreachable: Callable[[BaseException], bool] = lambda _: False,
    first_pause: float = FIRST_PAUSE_SECONDS,
    longest_pause: float = LONGEST_PAUSE_SECONDS,
) -> T:
    """`attempt()` until it succeeds; an outage (or what `also_unreachable` says is one) is
    logged and tried again after a pause that doubles up to `longest_pause`."""
    pause = first_pause
    began = time.monotonic()
    tries = 0
    while True:
        tries += 1
        try:
            result = await attempt()
        except Exception as error:
            if not (is_outage(error) or _unreachable(error) or also_unreachable(error)):
                raise
            log.warning(
                "waiting for a dependency before starting",
                dependency=dependency,
                at=where,
                attempt=tries,
                waited_seconds=round(time.monotonic() - began, 1),
                retry_in=pause,
                error=repr(error)[:300],
            )
            await asyncio.sleep(pause)
            pause = min(pause * 2, longest_pause)
            continue
        if tries > 1:
            log.info(
                "dependency reachable; starting",
                dependency=dependency,
                at=where,
                waited_seconds=round(time.monotonic() - began, 1),
            )
        return result


def _unreachable(error: BaseException) -> bool:
    # A connect that times out or is refused before any protocol is spoken.
    return isinstance(error, TimeoutError | ConnectionError) or (
        isinstance(error, OSError) and "Connect call failed" in str(error)
    )

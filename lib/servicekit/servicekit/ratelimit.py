"""How often one caller may call one route (issue 14): a flood of requests, each of which the
access trail would record, is answered 429 with Retry-After instead of reaching the handler.

The counting is a moving window (as the `limits` library's moving window counts, whose rate
strings it reads), kept in the process's memory: each replica limits on its own, which bounds
what one caller can make any replica record.
"""

import math
import time
from collections import deque
from collections.abc import Callable

from limits import RateLimitItem, parse


class RateLimited(Exception):
    """The caller has used up this route's allowance for now (429)."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"retry after {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


def parse_rate(rate: str) -> RateLimitItem:
    """`120/minute`, `10 per second`... as `limits` reads them; ValueError otherwise."""
    return parse(rate)


class RateLimiter:
    """The times of each caller's requests within the last window, oldest first.

    Counted here rather than by `limits`' MemoryStorage, which expires its entries from a
    `threading.Timer` of 10 ms that it starts again on the next hit after it ran out: on a
    service answering a request every few milliseconds, a thread started per request (issue
    16's as-of profile: 6 % of the audit process, and a thread to schedule each time). Every
    request-path dependency runs on the event loop (servicekit.http), so nothing here needs a
    lock or a thread: a caller's expired times go at its next request, and callers that went
    quiet are swept at most once a window."""

    def __init__(self, rate: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        item = parse_rate(rate)
        self._limit = item.amount
        self._seconds = float(item.get_expiry())
        self._clock = clock
        self._hits: dict[tuple[str, ...], deque[float]] = {}
        self._next_sweep = self._clock() + self._seconds

    def admit(self, *caller: str) -> None:
        """Counts one request of `caller` (e.g. who and which route); RateLimited if over."""
        now = self._clock()
        if now >= self._next_sweep:
            self._sweep(now)
        hits = self._hits.get(caller)
        if hits is None:
            hits = self._hits[caller] = deque()
        started = now - self._seconds
        while hits and hits[0] <= started:
            hits.popleft()
        if len(hits) < self._limit:
            hits.append(now)
            return
        # Refused requests are not counted: the window frees up when its oldest request leaves.
        raise RateLimited(max(1, math.ceil(hits[0] + self._seconds - now)))

    def _sweep(self, now: float) -> None:
        started = now - self._seconds
        for caller in [c for c, hits in self._hits.items() if not hits or hits[-1] <= started]:
            del self._hits[caller]
        self._next_sweep = now + self._seconds

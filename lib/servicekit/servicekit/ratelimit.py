"""How often one caller may call one route (issue 14): a flood of requests, each of which the
access trail would record, is answered 429 with Retry-After instead of reaching the handler.

The counting is the `limits` library's moving window, kept in the process's memory: each
replica limits on its own, which bounds what one caller can make any replica record.
"""

import math
import time

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


class RateLimited(Exception):
    """The caller has used up this route's allowance for now (429)."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"retry after {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


def parse_rate(rate: str) -> RateLimitItem:
    """`120/minute`, `10 per second`... as `limits` reads them; ValueError otherwise."""
    return parse(rate)


class RateLimiter:
    def __init__(self, rate: str) -> None:
        self._item = parse_rate(rate)
        # Thread-safe: the bearer check runs in FastAPI's thread pool.
        self._window = MovingWindowRateLimiter(MemoryStorage())

    def admit(self, *caller: str) -> None:
        """Counts one request of `caller` (e.g. who and which route); RateLimited if over."""
        if self._window.hit(self._item, *caller):
            return
        stats = self._window.get_window_stats(self._item, *caller)
        raise RateLimited(max(1, math.ceil(stats.reset_time - time.time())))

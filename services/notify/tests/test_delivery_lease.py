"""The delivery loop works only while the session holding its lease answers (issue 20: one
lease holder among replicas, the others standing by)."""

from typing import Any

import asyncpg
import pytest

from notify.delivery_loop import DeliveryLoop
from notify.domain.retries import RetryPolicy


class CutSession:
    """The lease's session after its connection was cut: listening still "works" (asyncpg
    keeps the callback), any query fails."""

    async def add_listener(self, channel: str, callback: Any) -> None:
        return None

    async def fetchval(self, query: str, *args: Any) -> Any:
        raise asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed")

    def is_closed(self) -> bool:
        return True


class WatchedPool:
    """Fails the test if any delivery work reaches the database."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the loop used its pool ({name}) without holding its lease")


def loop() -> DeliveryLoop:
    unused: Any = None
    return DeliveryLoop(
        dsn="postgresql://unused",
        schema="notify",
        pool=WatchedPool(),
        store=unused,
        mailer=unused,
        webhooks=unused,
        policy=RetryPolicy(max_attempts=3, base_seconds=1, max_seconds=4),
    )


async def test_a_holder_whose_lease_session_was_cut_sends_nothing_and_starts_over() -> None:
    with pytest.raises(asyncpg.exceptions.ConnectionDoesNotExistError):
        await loop()._work_while_holding(CutSession())

"""Waiting on a real server the honest way: poll a condition until a deadline, never sleep a
fixed time and hope."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def wait_for(
    condition: Callable[[], Awaitable[T | None]], *, timeout: float, what: str, every: float = 0.05
) -> T:
    """Poll `condition` until it returns something truthy, or fail saying what never happened;
    the truthy answer is returned (a condition answers None or a falsy value until then)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await condition()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(every)

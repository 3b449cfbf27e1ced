"""Identical refusals counted, not stored one by one (servicekit.access, issue 14): the first of
a run is recorded at once, its repeats within the window as one `AccessDenied` with their count
when the window closes, so a flood is counted in full and the ledger stays bounded."""

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from uuid import UUID

from offramp_contracts.events.audit import AccessDenied, AccessEvent
from servicekit.log import get_logger

log = get_logger(__name__)


class Recorder(Protocol):
    """Where refusals are recorded (servicekit.access.AccessRecorder)."""

    async def record(
        self, payload: AccessEvent, *, jurisdiction: str, correlation_id: UUID | None
    ) -> None: ...


@dataclass
class _Run:
    """Repeats of one refusal inside its window, not yet stored."""

    first: AccessDenied
    jurisdiction: str
    correlation_id: UUID | None
    closes_at: float
    repeats: int = 0
    first_at: datetime | None = None
    last_at: datetime | None = None


class RefusalTally:
    """Counts identical refusals (see the module docstring). Held in memory: at most
    `MAX_RUNS` runs are open at once (more are stored at once), and stopping the service
    stores every open count (`flush`)."""

    MAX_RUNS = 10_000

    def __init__(self, recorder: Recorder, window_seconds: float) -> None:
        self._recorder = recorder
        self._window = window_seconds
        self._runs: dict[str, _Run] = {}
        self._lock = asyncio.Lock()

    async def refused(
        self, payload: AccessDenied, *, jurisdiction: str, correlation_id: UUID | None
    ) -> None:
        key = f"{jurisdiction}|{payload.model_dump_json()}"
        now = time.monotonic()
        async with self._lock:
            run = self._runs.get(key)
            if run is not None and now < run.closes_at:
                at = datetime.now(UTC)
                run.repeats += 1
                run.first_at = run.first_at or at
                run.last_at = at
                return
            if run is not None:
                await self._store(self._runs.pop(key))
            if len(self._runs) >= self.MAX_RUNS:
                await self._close_all()
            self._runs[key] = _Run(payload, jurisdiction, correlation_id, now + self._window)
        await self._recorder.record(
            payload, jurisdiction=jurisdiction, correlation_id=correlation_id
        )

    async def run(self) -> None:
        """Stores each run's count when its window closes, for the life of the service."""
        while True:
            await asyncio.sleep(min(1.0, self._window / 4))
            await self.close_due()

    async def close_due(self) -> None:
        now = time.monotonic()
        async with self._lock:
            for key in [k for k, run in self._runs.items() if run.closes_at <= now]:
                await self._store(self._runs.pop(key))

    async def flush(self) -> None:
        async with self._lock:
            await self._close_all()

    async def _close_all(self) -> None:
        runs, self._runs = list(self._runs.values()), {}
        for run in runs:
            await self._store(run)

    async def _store(self, run: _Run) -> None:
        if run.repeats == 0:
            return
        repeated = run.first.model_copy(
            update={
                "count": run.repeats,
                "first_refused_at": run.first_at,
                "last_refused_at": run.last_at,
            }
        )
        try:
            await self._recorder.record(
                repeated, jurisdiction=run.jurisdiction, correlation_id=run.correlation_id
            )
        except Exception:
            log.exception(
                "could not record repeated refusals", action=run.first.action, count=run.repeats
            )

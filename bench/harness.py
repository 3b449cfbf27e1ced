"""What every benchmark shares: real servers on free ports, a service run as its own process,
latency percentiles, and one JSON file of results per benchmark in `bench/results/`."""

import asyncio
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from offramp_devstack import (
    Nats,
    Postgres,
    ServiceProcess,
    Temporal,
    free_ports,
    start_nats,
    start_postgres,
    start_temporal,
)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Servers:
    postgres: Postgres
    nats: Nats
    temporal: Temporal | None
    home: Path


@contextmanager
def servers(*, temporal: bool = False) -> Iterator[Servers]:
    home = Path(tempfile.mkdtemp(prefix="offramp-bench-"))
    pg_port, nats_port, monitor_port, temporal_port, ui_port = free_ports(5)
    postgres = start_postgres(home / "postgres", pg_port, home / "postgres.log")
    bus = start_nats(home / "nats", nats_port, monitor_port, home / "nats.log")
    started = [postgres.server, bus.server]
    dev = None
    if temporal:
        dev = start_temporal(
            home / "temporal.db", temporal_port, ui_port, home / "temporal.log", headless=True
        )
        started.append(dev.server)
    try:
        yield Servers(postgres, bus, dev, home)
    finally:
        for server in reversed(started):
            server.stop()
        shutil.rmtree(home, ignore_errors=True)


@asynccontextmanager
async def service_process(
    command: str, env: dict[str, str], port: int, log: Path
) -> AsyncIterator[str]:
    """Runs `offramp-<service> serve` as its own process (so the load generator does not share
    its event loop) and yields its base URL once /readyz answers 200."""
    name = command.removeprefix("offramp-")
    settings = {**env, "OFFRAMP_LOG_LEVEL": "WARNING"}
    async with ServiceProcess(name, port=port, env=settings, log_path=log, cwd=ROOT) as service:
        yield service.url


@dataclass(frozen=True)
class Run:
    """`count` operations at `concurrency`, with each operation's latency in seconds."""

    count: int
    concurrency: int
    seconds: float
    latencies: Sequence[float]

    @property
    def per_second(self) -> float:
        return self.count / self.seconds

    def summary(self) -> dict[str, float]:
        ordered = sorted(self.latencies)
        if not ordered:
            return {"per_second": round(self.per_second, 1)}
        cut = statistics.quantiles(ordered, n=100, method="inclusive")
        return {
            "per_second": round(self.per_second, 1),
            "p50_ms": round(cut[49] * 1000, 2),
            "p95_ms": round(cut[94] * 1000, 2),
            "p99_ms": round(cut[98] * 1000, 2),
        }


async def closed_loop(
    operation: Callable[[int], Awaitable[None]], *, count: int, concurrency: int
) -> Run:
    """`concurrency` workers take the next operation number until `count` are done."""
    latencies: list[float] = []
    numbers = iter(range(count))

    async def worker() -> None:
        for number in numbers:
            began = time.perf_counter()
            await operation(number)
            latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Run(count, concurrency, time.perf_counter() - began, latencies)


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
    }


def report(name: str, size: str, rows: list[dict[str, Any]], notes: str = "") -> Path:
    """Prints the rows as a table and writes them, with the machine, to bench/results/."""
    print(f"\n== {name} ({size}) ==")
    if notes:
        print(notes)
    columns = list(dict.fromkeys(key for row in rows for key in row))
    widths = {c: max(len(c), *(len(str(row.get(c, ""))) for row in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for row in rows:
        print("  ".join(str(row.get(c, "")).ljust(widths[c]) for c in columns))
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(
        json.dumps(
            {
                "benchmark": name,
                "size": size,
                "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": machine(),
                "notes": notes,
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"written to {path.relative_to(ROOT)}")
    return path

"""What every benchmark shares: real servers on free ports, a service run as its own process,
latency percentiles, resident memory, pipelined publishing, and one JSON file of results per
benchmark in `bench/results/` with the machine and its load."""

import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

from nats.js import JetStreamContext

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
    # Each benchmark has its own subject root and stream; the bus users' permissions name any.
    bus = start_nats(
        home / "nats", nats_port, monitor_port, home / "nats.log", subject_root="*", stream="*"
    )
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


@dataclass(frozen=True)
class Service:
    """A process the benchmark started, serving HTTP."""

    url: str
    pid: int

    def rss_mib(self) -> float:
        return rss_mib(self.pid)


@asynccontextmanager
async def process(
    argv: Sequence[str], env: dict[str, str], log: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    """Runs `argv` (its first item a command of the virtualenv) as its own process, so the load
    generator does not share its event loop, with its output in `log`; stops it on the way out.
    For a process that serves no HTTP (a bare Temporal worker); services use service_process."""
    with log.open("ab") as out:
        started = await asyncio.create_subprocess_exec(
            str(BIN / argv[0]),
            *argv[1:],
            env={**os.environ, **env, "OFFRAMP_LOG_LEVEL": "WARNING"},
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    try:
        yield started
    finally:
        if started.returncode is None:
            started.terminate()
            try:
                await asyncio.wait_for(started.wait(), timeout=20)
            except TimeoutError:
                started.kill()


@asynccontextmanager
async def service_process(
    command: str, env: dict[str, str], port: int, log: Path, *, argv: Sequence[str] = ("serve",)
) -> AsyncIterator[Service]:
    """Runs `<command> serve` (or `<command> <argv>`) as its own process on `port`, and yields
    it once /readyz answers 200."""
    async with ServiceProcess(
        command.removeprefix("offramp-"),
        port=port,
        env={**env, "OFFRAMP_LOG_LEVEL": "WARNING"},
        log_path=log,
        cwd=ROOT,
        argv=[str(BIN / command), *argv],
    ) as service:
        yield Service(service.url, service.pid)


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


def rss_mib(pid: int) -> float:
    """Resident memory of a process, from /proc (Linux), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise ProcessLookupError(f"process {pid} has no resident memory (a zombie?)")


def loadavg() -> list[float]:
    """The machine's 1, 5 and 15 minute load averages: the figures are only as quiet as this."""
    return [float(part) for part in Path("/proc/loadavg").read_text().split()[:3]]


async def publish_all(
    js: JetStreamContext, messages: Sequence[tuple[str, bytes]], *, window: int = 256
) -> float:
    """Publishes (subject, body) pairs with `window` acks outstanding, each with a fresh
    Nats-Msg-Id; returns the seconds it took."""
    began = time.perf_counter()
    for start in range(0, len(messages), window):
        await asyncio.gather(
            *(
                js.publish(subject, body, headers={"Nats-Msg-Id": str(uuid4())})
                for subject, body in messages[start : start + window]
            )
        )
    return time.perf_counter() - began


async def sample_rss(pids: dict[str, int], peaks: dict[str, float], every: float = 0.25) -> None:
    """Keeps the highest resident memory seen of each process in `peaks` until cancelled."""
    while True:
        for name, pid in pids.items():
            peaks[name] = max(peaks.get(name, 0.0), rss_mib(pid))
        await asyncio.sleep(every)


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
    }


def report(
    name: str, size: str, rows: list[dict[str, Any]], *, load_before: list[float], notes: str = ""
) -> Path:
    """Prints the rows as a table and writes them, with the machine and its load averages before
    and after the run, to bench/results/."""
    load = {"before": load_before, "after": loadavg()}
    print(f"\n== {name} ({size}) ==")
    if notes:
        print(notes)
    print(f"load average (1/5/15 min) before {load['before']}, after {load['after']}")
    columns = list(dict.fromkeys(key for row in rows for key in row))
    widths = {c: max(len(c), *(len(str(row.get(c, ""))) for row in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for row in rows:
        print("  ".join(str(row.get(c, "")).ljust(widths[c]) for c in columns))
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}-{size}.json"
    path.write_text(
        json.dumps(
            {
                "benchmark": name,
                "size": size,
                "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": machine(),
                "load_average": load,
                "notes": notes,
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"written to {path.relative_to(ROOT)}")
    return path

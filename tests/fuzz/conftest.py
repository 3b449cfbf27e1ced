"""The fuzzed system: the four services in a thread of their own, seeded with real data, shared by
the tests of a module."""

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING

import asyncpg
import pytest
from schemathesis.core.result import Err

from offramp_devstack.mailsink import MailSink
from servicekit.auth import LocalIssuer
from tests.conftest import RunningService
from tests.fuzz.background import LoopThread, factories, make_names, start_all, stop_all
from tests.fuzz.callers import Caller, callers
from tests.fuzz.documents import EXAMPLES, SEED, service_of
from tests.fuzz.seeds import Seeds, plant
from tests.fuzz.target import ACCESS_EVENTS, Target
from tests.isolation import Servers

if TYPE_CHECKING:
    # Schemathesis names its OpenAPI case and operation types only for type checkers.
    from schemathesis.specs.openapi.schemas import OpenApiCase, OpenApiOperation


@dataclass
class FuzzedSystem:
    thread: LoopThread
    services: dict[str, RunningService]
    callers: tuple[Caller, ...]
    seeds: Seeds
    pool: asyncpg.Pool
    event_tables: list[str]
    targets: dict[str, Target]

    def target(self, case: "OpenApiCase") -> Target:
        """The service the case is for; probed for who may call what before its first case."""
        service = service_of(case)
        if service not in self.targets:
            target = Target(
                service=service,
                url=self.services[service].url,
                callers=self.callers,
                seeds=self.seeds,
                events_with_correlation=self.events_with_correlation,
            )
            target.probe(operations(case))
            self.targets[service] = target
        return self.targets[service]

    def events_with_correlation(self, correlation_id: str) -> list[str]:
        """Domain events any service stored on behalf of that request."""
        query = " UNION ALL ".join(
            f"SELECT event_type FROM {table} WHERE envelope->>'correlation_id' = $1 "
            "AND NOT event_type = ANY($2::text[])"
            for table in self.event_tables
        )
        rows = self.thread.run(
            self.pool.fetch(query, correlation_id, list(ACCESS_EVENTS)), timeout=30
        )
        return [row["event_type"] for row in rows]


def operations(case: "OpenApiCase") -> list["OpenApiOperation"]:
    """Every operation of the document the case comes from; the documents are the services'
    own, so one that schemathesis cannot read fails the fuzz with its reason."""
    found = []
    for result in case.operation.schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        found.append(result.ok())
    return found


def pytest_report_header() -> str:
    """Shown when pytest is run on tests/fuzz: the seed to give OFFRAMP_FUZZ_SEED to send the
    same requests again."""
    return f"fuzz: OFFRAMP_FUZZ_SEED={SEED} OFFRAMP_FUZZ_EXAMPLES={EXAMPLES}"


async def open_pool(database_url: str) -> asyncpg.Pool:
    pool: asyncpg.Pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    return pool


@pytest.fixture(scope="module")
def fuzzed_system(
    servers: Servers, mail_sink: MailSink, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FuzzedSystem]:
    """One system for the module: every operation's test sends its requests to it."""
    with ExitStack() as stack:
        thread = LoopThread()
        thread.start()
        stack.callback(thread.stop)
        names = thread.run(make_names(servers, tmp_path_factory.mktemp("fuzz")), timeout=60)
        made = factories(names.settings(servers), mail_sink.port)
        services = thread.run(start_all(made), timeout=180)
        stack.callback(lambda: thread.run(stop_all(services), timeout=120))
        issuer = LocalIssuer(names.key_path, issuer="offramp-local", audience="offramp")
        everyone = callers(issuer)
        seeds = thread.run(plant(services, {c.name: c for c in everyone}), timeout=180)
        pool = thread.run(open_pool(names.database_url), timeout=30)
        stack.callback(lambda: thread.run(pool.close(), timeout=30))
        tables = thread.run(
            pool.fetch(
                "SELECT table_schema FROM information_schema.tables "
                "WHERE table_name = 'events' ORDER BY table_schema"
            ),
            timeout=30,
        )
        yield FuzzedSystem(
            thread,
            services,
            everyone,
            seeds,
            pool,
            event_tables=[f'"{row["table_schema"]}".events' for row in tables],
            targets={},
        )

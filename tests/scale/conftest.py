"""The scale-out test's own servers and replicas, and the scenario run once for the module:
every test then checks one promise against what the system holds afterwards."""

import time
from collections.abc import AsyncIterator

import asyncpg
import nats
import pytest
from nats.aio.client import Client as NATS
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from tests.scale.scenario import ScaleRecord, run_scale_scenario
from tests.scale.stack import ScaleStack, start_scale_stack


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ScaleStack]:
    began = time.monotonic()
    running = await start_scale_stack(tmp_path_factory.mktemp("scale"))
    print(f"\nscale-out stack started in {time.monotonic() - began:.1f}s")
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture(scope="module")
async def scenario(stack: ScaleStack) -> ScaleRecord:
    try:
        record = await run_scale_scenario(stack)
    except AssertionError as error:
        tails = "\n\n".join(
            f"--- end of {p.log_path.name}:\n{p.log_tail(25)}" for p in stack.processes()
        )
        raise AssertionError(f"{error}\n\n{tails}") from error
    # Shown with -s: how long each step took, and how the load fared after each kill.
    print(f"\nscale-out scenario, seconds per step: {record.seconds}")
    for r in record.recoveries:
        print(f"  {r.fault}: {r.after}/s again after {r.seconds:.1f}s (before: {r.baseline}/s)")
    print(f"load: {record.load.summary()}")
    return record


@pytest.fixture(scope="module")
async def db(stack: ScaleStack, scenario: ScaleRecord) -> AsyncIterator[asyncpg.Connection]:
    conn = await stack.connect()
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture(scope="module")
async def bus(stack: ScaleStack, scenario: ScaleRecord) -> AsyncIterator[NATS]:
    client = await nats.connect(stack.nats_servers, **stack.nats_connect_options())
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture(scope="module")
async def temporal(stack: ScaleStack, scenario: ScaleRecord) -> Client:
    return await Client.connect(stack.temporal.address, data_converter=pydantic_data_converter)

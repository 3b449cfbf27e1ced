"""The fault-injection suite's own servers and services, and the scenario run once for the
module: every test then reconciles one promise against what the system holds afterwards."""

import time
from collections.abc import AsyncIterator

import asyncpg
import nats
import pytest
from nats.aio.client import Client as NATS
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from tests.faults.scenario import Record, run_scenario
from tests.faults.stack import Stack, start_stack


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    began = time.monotonic()
    running = await start_stack(tmp_path_factory.mktemp("faults"))
    print(f"\nfault stack started in {time.monotonic() - began:.1f}s")
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture(scope="module")
async def scenario(stack: Stack) -> Record:
    try:
        record = await run_scenario(stack)
    except AssertionError as error:
        tails = "\n\n".join(
            f"--- end of {name}'s log ({service.log_path}):\n{service.log_tail(25)}"
            for name, service in stack.services.items()
        )
        raise AssertionError(f"{error}\n\n{tails}") from error
    # Shown with -s: how long each step took, and how much load met the faults.
    print(f"\nfault scenario, seconds per step: {record.seconds}\nload: {record.load.summary()}")
    return record


@pytest.fixture(scope="module")
async def db(stack: Stack, scenario: Record) -> AsyncIterator[asyncpg.Connection]:
    conn = await stack.connect()
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture(scope="module")
async def bus(stack: Stack, scenario: Record) -> AsyncIterator[NATS]:
    client = await nats.connect(stack.nats_servers, **stack.nats_connect_options())
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture(scope="module")
async def temporal(stack: Stack, scenario: Record) -> Client:
    return await Client.connect(stack.temporal.address, data_converter=pydantic_data_converter)

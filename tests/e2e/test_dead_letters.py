"""Dead letters as an operator handles them, over HTTP and with the service's command on the
server: listed, replayed once the cause is fixed (one effect, through the inbox), discarded.

Intake's consumer of CaseClosed is the one used: a malformed message on its subject is parked
at once, and a real CaseClosed it failed on is parked as a handler failure would park it."""

import asyncio
import json
import os
import subprocess
import sys
from typing import Any
from uuid import uuid4

import asyncpg
import pytest
from nats.aio.client import Client as NATS

from intake.bootstrap import CONSUMER_VERSION
from offramp_contracts.events.casework import CaseClosed
from servicekit.events import new_event, system_actor
from tests.bus import signed_headers
from tests.conftest import System, wait_for

pytestmark = pytest.mark.services("intake")

CONSUMER = f"intake-places-{CONSUMER_VERSION}"


def operator(system: System, jurisdiction: str = "pontiac") -> str:
    return system.token(sub="it-1", role="operator", agency="county-it", jurisdiction=jurisdiction)


async def parked_count(system: System) -> int:
    async with system.client("intake", operator(system)) as client:
        answer = await client.get("/dead-letters")
    assert answer.status_code == 200, answer.text
    return len(answer.json())


async def park_case_closed(system: System, isolation: Any) -> tuple[int, str]:
    """A real CaseClosed parked by intake's consumer, as after its handler failed five times:
    with the headers casework signed it with, as the consumer keeps them."""
    event = new_event(
        CaseClosed(case_id=uuid4(), referral_id=uuid4(), reason="graduated"),
        stream_id=f"case-{uuid4()}",
        stream_version=9,
        jurisdiction="pontiac",
        actor=system_actor("casework"),
        correlation_id=uuid4(),
        causation_id=None,
    )
    subject = f"{isolation.subject_root}.pontiac.casework.CaseClosed"
    pool = system.services["intake"].runtime.pool
    letter_id: int = await pool.fetchval(
        """INSERT INTO dead_letters (consumer, subject, event_id, body, error, deliveries,
                                    stream, stream_seq, headers)
           VALUES ($1, $2, $3, $4, 'RuntimeError(''the database said no'')', 5, $5, $6,
                   $7::jsonb)
           RETURNING id""",
        CONSUMER,
        subject,
        event.event_id,
        event.wire_json(),
        isolation.stream_name,
        int(uuid4().int % 1_000_000_000),
        json.dumps(signed_headers(isolation, event)),
    )
    return letter_id, str(event.event_id)


async def handled(pool: asyncpg.Pool, event_id: str) -> int:
    return int(
        await pool.fetchval(
            "SELECT count(*) FROM inbox WHERE consumer = $1 AND event_id = $2::uuid",
            CONSUMER,
            event_id,
        )
    )


async def test_a_malformed_message_is_listed_cannot_be_replayed_and_is_discarded(
    system: System, nats_client: NATS, isolation: Any
) -> None:
    await nats_client.jetstream().publish(
        f"{isolation.subject_root}.pontiac.casework.CaseClosed",
        b"not an event",
        stream=isolation.stream_name,
    )
    await wait_for(lambda: _has(system, 1), timeout=30, what="the message to be parked")
    async with system.client("intake", operator(system)) as client:
        [letter] = (await client.get("/dead-letters")).json()
        assert letter["consumer"] == CONSUMER and letter["status"] == "parked"
        assert letter["error"].startswith("malformed event")
        assert "body" not in letter

        again = await client.post(f"/dead-letters/{letter['id']}/replay")
        assert again.status_code == 409, again.text
        assert again.headers["content-type"] == "application/problem+json"
        assert again.json()["type"].endswith("/replay-failed")
        assert await parked_count(system) == 1

        gone = await client.post(f"/dead-letters/{letter['id']}/discard")
        assert gone.status_code == 200 and gone.json()["status"] == "discarded"
        assert await parked_count(system) == 0
        assert (await client.post(f"/dead-letters/{letter['id']}/discard")).status_code == 404


async def _has(system: System, count: int) -> bool:
    return await parked_count(system) == count


async def test_replaying_over_http_hands_the_event_to_its_consumer_once(
    system: System, isolation: Any
) -> None:
    letter_id, event_id = await park_case_closed(system, isolation)
    pool = system.services["intake"].runtime.pool

    async with system.client("intake", operator(system, "oakland")) as elsewhere:
        assert (await elsewhere.get("/dead-letters")).json() == []
        refused = await elsewhere.post(f"/dead-letters/{letter_id}/replay")
        assert refused.status_code == 404, "another jurisdiction's operator does not see it"
    assert await handled(pool, event_id) == 0

    async with system.client("intake", operator(system)) as client:
        replayed = await client.post(f"/dead-letters/{letter_id}/replay")
        assert replayed.status_code == 200, replayed.text
        assert replayed.json()["status"] == "replayed"
        assert (await client.post(f"/dead-letters/{letter_id}/replay")).status_code == 404
    assert await handled(pool, event_id) == 1
    assert await parked_count(system) == 0


def offramp_intake(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OFFRAMP_")}
    env |= {"OFFRAMP_ENV_FILE": "", "OFFRAMP_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "intake.entrypoints.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )


async def test_the_command_on_the_server_lists_and_replays_through_the_running_service(
    system: System, isolation: Any
) -> None:
    letter_id, event_id = await park_case_closed(system, isolation)
    pool = system.services["intake"].runtime.pool

    listing = await asyncio.to_thread(
        offramp_intake, "dead-letters", "list", database_url=isolation.database_url
    )
    assert listing.returncode == 0, listing.stderr
    assert f"{letter_id}\t" in listing.stdout and CONSUMER in listing.stdout

    replay = await asyncio.to_thread(
        offramp_intake,
        "dead-letters",
        "replay",
        str(letter_id),
        database_url=isolation.database_url,
    )
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert f"dead letter {letter_id} replayed" in replay.stdout
    assert await handled(pool, event_id) == 1

    unknown = await asyncio.to_thread(
        offramp_intake, "dead-letters", "replay", "999999999", database_url=isolation.database_url
    )
    assert unknown.returncode == 1
    assert "no parked dead letter 999999999" in unknown.stderr
    assert "Traceback" not in unknown.stderr

"""A case's timeline learns every stored fact, even one whose signal was lost (the process
killed between the commit and the signal): casework signals it again from the bus."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from casework.container import CaseworkContainer
from casework.timeline.activities import facts_of
from casework.timeline.model import FACTS_QUERY, TimelineFacts, workflow_id_for
from offramp_contracts import payload_of
from offramp_contracts.lifecycle import replay
from tests.casework.harness import Casework
from tests.conftest import wait_for


@pytest.fixture
async def temporal(servers: Any) -> AsyncIterator[Client]:
    yield await Client.connect(servers.temporal.address, data_converter=pydantic_data_converter)


async def timeline_facts(temporal: Client, case_id: UUID) -> TimelineFacts:
    handle = temporal.get_workflow_handle(workflow_id_for(case_id))
    facts: TimelineFacts = await handle.query(FACTS_QUERY, result_type=TimelineFacts)
    return facts


async def test_a_contact_whose_signal_was_lost_reaches_the_timeline_through_the_bus(
    casework: Casework, temporal: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    await casework.register("cm-1")
    case_id = await casework.admit("social_contact")
    await casework.opened(case_id)

    async def lost(case_id: UUID, events: Any) -> None:
        """The command's own signal never leaves, as if the process died after the commit."""

    commands = casework.service.runtime.container_as(CaseworkContainer).casework
    monkeypatch.setattr(commands.timeline, "stored", lost)
    contacted_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    async with casework.staff() as http:
        response = await http.post(
            f"/cases/{case_id}/contacts",
            json={"contacted_at": contacted_at.isoformat(), "method": "in_person"},
        )
    assert response.status_code == 201, response.text

    async def told() -> bool:
        return (await timeline_facts(temporal, case_id)).last_contact_at == contacted_at

    await wait_for(told, timeout=30, what="the timeline to learn of the contact from the bus")
    stored = replay(payload_of(e) for e in await casework.events(case_id))
    assert stored is not None
    assert await timeline_facts(temporal, case_id) == facts_of(stored)

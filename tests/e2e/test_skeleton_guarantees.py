"""What the walking skeleton promises beyond the happy path, on the real servers."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import nats
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from casework.container import CaseworkContainer
from casework.timeline.model import workflow_id_for
from casework.timeline.workflow import CaseTimeline
from offramp_contracts import EventEnvelope
from offramp_contracts.identifiers import case_id_for_referral
from tests.bus import signed_headers
from tests.conftest import System, wait_for
from tests.referrals import fresh_key, referral_body
from tests.stores import domain_events_stored


def referral(**changes: Any) -> dict[str, Any]:
    return referral_body("social_contact", **changes)


async def post_referral(system: System, token: str, body: dict[str, Any]) -> dict[str, Any]:
    async with system.client("intake", token) as intake:
        response = await intake.post("/referrals", json=body, headers=fresh_key())
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def case_rows(system: System) -> list[Any]:
    return list(await system.services["casework"].runtime.pool.fetch("SELECT * FROM cases"))


async def register_case_manager(system: System, subject: str = "cm-1") -> None:
    supervisor = system.token(sub="sup-1", role="supervisor", agency="pontiac-case-management")
    async with system.client("casework", supervisor) as casework:
        response = await casework.put(f"/case-managers/{subject}")
    assert response.status_code == 204, response.text


async def test_a_redelivered_admission_opens_one_case_and_one_workflow(
    system: System, servers: Any, isolation: Any
) -> None:
    await register_case_manager(system)
    officer = system.token(sub="officer-3", role="officer", agency="pontiac-pd")
    made = await post_referral(system, officer, referral())
    casework_pool = system.services["casework"].runtime.pool

    async def opened_and_assigned() -> bool:
        return await domain_events_stored(casework_pool) == 2

    await wait_for(opened_and_assigned, timeout=60, what="the case to open and be assigned")

    # Deliver the stored ReferralAdmitted again under a new message id, as a republished
    # outbox row past JetStream's duplicate window would arrive.
    intake_pool = system.services["intake"].runtime.pool
    envelope = await intake_pool.fetchval(
        "SELECT envelope FROM events WHERE event_type = 'ReferralAdmitted'"
    )
    consumer = system.services["casework"].runtime.container_as(CaseworkContainer).consumer
    client = await nats.connect(servers.nats.url, **servers.nats.connect_options())
    try:
        js = client.jetstream()
        subject = f"{isolation.subject_root}.pontiac.intake.ReferralAdmitted"
        event = EventEnvelope.model_validate_json(envelope)
        headers = signed_headers(isolation, event, msg_id=str(uuid4()))
        ack = await js.publish(subject, envelope.encode(), headers=headers)

        async def duplicate_acked() -> bool:
            info = await js.consumer_info(isolation.stream_name, consumer.name)
            return bool(info.ack_floor.stream_seq >= ack.seq)

        await wait_for(duplicate_acked, timeout=30, what="casework to take the duplicate")
    finally:
        await client.close()

    assert len(await case_rows(system)) == 1
    assert await casework_pool.fetchval("SELECT count(*) FROM inbox") == 1
    assert await domain_events_stored(casework_pool) == 2
    temporal = await Client.connect(
        servers.temporal.address, data_converter=pydantic_data_converter
    )
    workflow_id = workflow_id_for(case_id_for_referral(UUID(made["referral_id"])))
    runs = [w async for w in temporal.list_workflows(f"WorkflowId = '{workflow_id}'")]
    assert len(runs) == 1


async def test_an_ineligible_referral_opens_no_case_but_is_in_the_ledger(system: System) -> None:
    officer = system.token(sub="officer-4", role="officer", agency="pontiac-pd")
    auditor = system.token(sub="auditor-2", role="auditor", agency="county-audit")
    made = await post_referral(
        system, officer, referral(screening={"confidential_informant": True})
    )
    assert made["status"] == "ineligible"

    async def both_events_in_ledger() -> bool:
        async with system.client("audit", auditor) as audit:
            entries = (await audit.get("/ledger/entries")).json()
        types = {e["entry"]["event"]["event_type"] for e in entries}
        return {"ReferralReceived", "EligibilityDecided"} <= types

    await wait_for(both_events_in_ledger, timeout=60, what="both intake events in the ledger")
    # Casework opens cases on ReferralAdmitted, which an ineligible referral never gets: once
    # both events are published, casework has nothing pending and no case.
    consumer = system.services["casework"].runtime.container_as(CaseworkContainer).consumer
    info = await system.services["casework"].runtime.js.consumer_info(
        consumer.stream, consumer.name
    )
    assert info.num_pending == 0 and info.num_ack_pending == 0
    assert await case_rows(system) == []


async def test_the_case_timeline_history_replays_deterministically(
    system: System, servers: Any
) -> None:
    await register_case_manager(system)
    officer = system.token(sub="officer-5", role="officer", agency="pontiac-pd")
    made = await post_referral(system, officer, referral())

    async def assigned() -> bool:
        rows = await case_rows(system)
        return bool(rows and rows[0]["case_manager"])

    await wait_for(assigned, timeout=60, what="the case manager to be assigned")
    temporal = await Client.connect(
        servers.temporal.address, data_converter=pydantic_data_converter
    )
    handle = temporal.get_workflow_handle(
        workflow_id_for(case_id_for_referral(UUID(made["referral_id"])))
    )

    async def history_has_both_activities() -> Any:
        history = await handle.fetch_history()
        completed = [
            e for e in history.events if e.HasField("activity_task_completed_event_attributes")
        ]
        return history if len(completed) >= 2 else None

    history = await wait_for(history_has_both_activities, timeout=30, what="both activities")
    replayer = Replayer(workflows=[CaseTimeline], data_converter=pydantic_data_converter)
    await replayer.replay_workflow(history)


async def test_services_refuse_bad_requests_with_problem_details(system: System) -> None:
    officer = system.token(sub="officer-6", role="officer", agency="pontiac-pd")
    case_manager = system.token(sub="cm-1", role="case_manager", agency="case-management")
    async with system.client("intake") as anonymous:
        unauthenticated = await anonymous.post("/referrals", json=referral(), headers=fresh_key())
    async with system.client("intake", case_manager) as wrong_role:
        forbidden = await wrong_role.post("/referrals", json=referral(), headers=fresh_key())
    async with system.client("intake", officer) as intake:
        invalid = await intake.post("/referrals", json={"door": "walk_in"}, headers=fresh_key())
        future = referral()
        future["offence"]["occurred_at"] = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        in_future = await intake.post("/referrals", json=future, headers=fresh_key())
        huge = await intake.post(
            "/referrals",
            content=b"x" * (2 * 1024 * 1024),
            headers={"Content-Type": "application/json", **fresh_key()},
        )
    for response, status in [
        (unauthenticated, 401),
        (forbidden, 403),
        (invalid, 422),
        (in_future, 422),
        (huge, 413),
    ]:
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert {"type", "title", "status", "detail"} <= set(response.json())
    assert await domain_events_stored(system.services["intake"].runtime.pool) == 0


async def test_every_service_reports_health_readiness_and_openapi(system: System) -> None:
    for name in ("intake", "casework", "notify", "audit"):
        async with system.client(name) as client:
            assert (await client.get("/healthz")).status_code == 200
            ready = await client.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"]["postgres"] == "ok"
            spec = (await client.get("/openapi.json")).json()
            assert spec["info"]["title"] == f"Offramp {name}"

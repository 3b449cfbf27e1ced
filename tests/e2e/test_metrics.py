"""Every service's `/metrics`, scraped as Prometheus would, and the series moving when their
cause happens: a request answered or refused, an event appended, a message parked, a consumer
stopped, a relay stopped, a delivery parked, a ledger entry appended and verified."""

import asyncio
from typing import Any
from uuid import uuid4

import pytest
from nats.aio.client import Client as NATS
from prometheus_client.parser import text_string_to_metric_families

from intake.bootstrap import CONSUMER_VERSION
from offramp_contracts.events.casework import CaseClosed, CaseOpened
from tests.bus import publish_event
from tests.conftest import System, wait_for
from tests.notifications import CASEWORK, OFFICER, new_case, subscribe
from tests.referrals import fresh_key, referral_body
from tests.webhooks import webhook_receiver

SERVICES = ("intake", "casework", "notify", "audit")
INTAKE_CONSUMER = f"intake-places-{CONSUMER_VERSION}"


async def scrape(system: System, service: str) -> dict[tuple[str, frozenset[Any]], float]:
    async with system.client(service) as client:
        answer = await client.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(samples: dict[tuple[str, frozenset[Any]], float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def officer(system: System) -> str:
    return system.token(sub="officer-17", role="officer", agency="pontiac-pd")


async def test_every_service_serves_its_series_and_counts_requests_by_route(
    system: System,
) -> None:
    for service in SERVICES:
        before = await scrape(system, service)
        for name in (
            "offramp_outbox_rows",
            "offramp_outbox_oldest_row_age_seconds",
            "offramp_event_store_position",
        ):
            assert (name, frozenset()) in before, (service, name)
        async with system.client(service) as client:
            assert (await client.get("/healthz")).status_code == 200
        after = await scrape(system, service)
        ok = {"route": "/healthz", "method": "GET", "status": "200"}
        assert value(after, "offramp_http_requests_total", **ok) == (
            value(before, "offramp_http_requests_total", **ok) + 1
        ), service
        assert (
            value(
                after, "offramp_http_request_duration_seconds_count", route="/healthz", method="GET"
            )
            >= 1
        )

    async with system.client("intake", officer(system)) as intake:
        assert (await intake.get("/reviews")).status_code == 403
        assert (await intake.get(f"/referrals/{uuid4()}")).status_code == 404
    seen = await scrape(system, "intake")
    assert (
        value(seen, "offramp_http_requests_total", route="/reviews", method="GET", status="403")
        == 1
    )
    # The route's template, never the id: one series however many people are looked up.
    assert (
        value(
            seen,
            "offramp_http_requests_total",
            route="/referrals/{referral_id}",
            method="GET",
            status="404",
        )
        == 1
    )
    assert "notify_deliveries" in str(await scrape(system, "notify"))
    assert value(await scrape(system, "audit"), "offramp_ledger_checkpoint_every_seconds") > 0


async def test_a_referral_moves_the_store_the_ledger_and_the_open_cases(system: System) -> None:
    intake_before = await scrape(system, "intake")
    async with system.client("intake", officer(system)) as intake:
        made = await intake.post("/referrals", json=referral_body(), headers=fresh_key())
    assert made.status_code == 201, made.text
    intake_after = await scrape(system, "intake")
    assert value(intake_after, "offramp_event_store_position") > value(
        intake_before, "offramp_event_store_position"
    )

    async def a_case_is_open() -> bool:
        samples = await scrape(system, "casework")
        return sum(v for (n, _), v in samples.items() if n == "offramp_casework_open_cases") >= 1

    await wait_for(a_case_is_open, timeout=60, what="casework to count the open case")

    async def ledger_holds(entries: float) -> bool:
        return value(await scrape(system, "audit"), "offramp_ledger_entries") >= entries

    await wait_for(lambda: ledger_holds(3), timeout=60, what="the ledger to count the entries")

    auditor = system.token(sub="auditor-1", role="auditor", agency="county-audit")
    async with system.client("audit", auditor) as audit:
        assert (await audit.get("/ledger/verify")).status_code == 200
    audited = await scrape(system, "audit")
    assert (
        "offramp_ledger_verify_failing",
        frozenset(),
    ) in audited and value(audited, "offramp_ledger_verify_failing") == 0
    assert value(audited, "offramp_ledger_verifications_total", outcome="intact") == 1
    assert value(audited, "offramp_consumer_pending_messages", consumer="audit-ledger-v2") >= 0


async def test_a_parked_message_and_a_stopped_consumer_show_as_dead_letters_and_lag(
    system: System, nats_client: NATS, isolation: Any
) -> None:
    subject = f"{isolation.subject_root}.pontiac.casework.CaseClosed"
    await nats_client.jetstream().publish(subject, b"not an event", stream=isolation.stream_name)

    async def parked() -> bool:
        samples = await scrape(system, "intake")
        return value(samples, "offramp_dead_letters", consumer=INTAKE_CONSUMER) == 1

    await wait_for(parked, timeout=30, what="the dead letter to be counted")

    runtime = system.services["intake"].runtime
    runtime.tasks["case-closed-consumer"].cancel()
    await asyncio.wait([runtime.tasks["case-closed-consumer"]], timeout=10)
    referral_id, case_id, stream = new_case()
    closed = CaseClosed(case_id=case_id, referral_id=referral_id, reason="graduated")
    await publish_event(
        nats_client, isolation, closed, stream_id=stream, stream_version=2, actor=CASEWORK
    )

    async def lagging() -> bool:
        # Not yet handed out, or handed to a pull request the stopped loop left on the server.
        samples = await scrape(system, "intake")
        unacknowledged = value(
            samples, "offramp_consumer_pending_messages", consumer=INTAKE_CONSUMER
        ) + value(samples, "offramp_consumer_ack_pending_messages", consumer=INTAKE_CONSUMER)
        return unacknowledged >= 1

    await wait_for(lagging, timeout=30, what="the stopped consumer's lag to show")


async def test_a_stopped_relay_leaves_rows_in_the_outbox_with_their_age(system: System) -> None:
    runtime = system.services["intake"].runtime
    runtime.tasks["outbox-relay"].cancel()
    await asyncio.wait([runtime.tasks["outbox-relay"]], timeout=10)
    async with system.client("intake", officer(system)) as intake:
        made = await intake.post("/referrals", json=referral_body(), headers=fresh_key())
    assert made.status_code == 201, made.text

    async def aged() -> bool:
        samples = await scrape(system, "intake")
        return (
            value(samples, "offramp_outbox_rows") >= 2
            and value(samples, "offramp_outbox_oldest_row_age_seconds") > 0.5
        )

    await wait_for(aged, timeout=30, what="the waiting outbox rows to age")


@pytest.mark.services("notify")
async def test_a_parked_delivery_is_counted_by_channel_and_status(
    system: System, nats_client: NATS, isolation: Any
) -> None:
    async with webhook_receiver(failures=-1) as police:
        await subscribe(system, OFFICER.agency, police.url)
        referral_id, case_id, stream = new_case()
        opened = CaseOpened(
            case_id=case_id, referral_id=referral_id, door="social_contact",
            referring_officer=OFFICER, policy_version="2026.1",
        )  # fmt: skip
        await publish_event(
            nats_client, isolation, opened, stream_id=stream, stream_version=1, actor=CASEWORK
        )

        async def parked() -> bool:
            samples = await scrape(system, "notify")
            return (
                value(samples, "offramp_notify_deliveries", channel="webhook", status="parked") == 1
            )

        await wait_for(parked, timeout=30, what="the parked delivery to be counted")

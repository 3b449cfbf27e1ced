"""Under load, every service, nats-server and PostgreSQL are killed with SIGKILL and restarted
in turn, a consumer is paused past its ack wait, and a duplicate and a malformed message are
put on the stream (`scenario.py`). Afterwards nothing is lost, doubled or half-applied:

- every accepted request has exactly one set of events, a refused one none;
- every event of every event store is in the ledger exactly once, in its stream's order, and
  every consumer handled every event it takes exactly once;
- every case's timeline on Temporal is in the state its events say;
- the ledger verifies;
- dead letters hold the malformed message, once per consumer that takes it, and nothing else;
- while PostgreSQL was down, writes were refused with 503 and Retry-After, never a 500.
"""

import asyncio
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from nats.aio.client import Client as NATS
from temporalio.client import Client, WorkflowExecutionStatus

from casework.timeline.activities import facts_of
from casework.timeline.model import FACTS_QUERY, TimelineFacts, workflow_id_for
from offramp_contracts import EventEnvelope, payload_of
from offramp_contracts.lifecycle import replay
from offramp_devstack.waiting import wait_for
from tests.faults.load import PROBLEM_JSON, Answer, CaseCommand
from tests.faults.reconcile import (
    ACCESS_EVENTS,
    by_correlation,
    consumer_filters,
    dead_letters,
    inbox,
    ledger,
    service_of,
    stored_events,
    subject_matches,
)
from tests.faults.scenario import MALFORMED_BODY, MALFORMED_SUBJECT, Record
from tests.faults.stack import RETRY_AFTER_SECONDS, SERVICES, Stack

# The scenario (servers, services, load, faults, settling) runs in the first test's setup.
pytestmark = pytest.mark.timeout(600)

RUNNING = WorkflowExecutionStatus.RUNNING
COMPLETED = WorkflowExecutionStatus.COMPLETED
REFERRAL_SET = ["ReferralReceived", "EligibilityDecided", "ReferralAdmitted"]
FIRST_OF = {
    "contact": "ContactLogged",
    "assessment": "IntakeAssessmentCompleted",
    "closure": "CaseClosed",
}


def is_503_to_retry(answer: Answer) -> bool:
    return (
        answer.status == 503
        and answer.retry_after == str(RETRY_AFTER_SECONDS)
        and answer.content_type == PROBLEM_JSON
        and (answer.problem_type or "").endswith("/service-unavailable")
    )


async def test_the_faults_all_happened_under_load(scenario: Record) -> None:
    assert scenario.faults == [
        "kill -9 intake",
        "kill -9 casework",
        "kill -9 notify",
        "kill -9 audit",
        "kill -9 nats-server",
        "kill -9 postgres",
        "SIGSTOP notify past its ack wait",
        "duplicates and a malformed message",
    ]
    assert scenario.paused["num_ack_pending"] > 0
    assert all(d.stored_again for d in scenario.duplicates)
    answers = [*scenario.load.answers(), *scenario.probe.during]
    assert any(a.status is None for a in answers), "no request ever met a dead service"
    assert any(a.status == 503 for a in answers), "no request ever met the database outage"


async def test_during_the_postgres_outage_writes_got_503_with_retry_after_and_stored_nothing(
    scenario: Record, db: asyncpg.Connection
) -> None:
    probe = scenario.probe
    assert is_503_to_retry(probe.during[-2]), probe.during  # the referral
    assert is_503_to_retry(probe.during[-1]), probe.during  # the contact
    assert probe.contact.outcome == "refused"

    events = await stored_events(db)
    assert by_correlation(events, "casework").get(probe.contact.correlation_id, []) == []
    # Sent again with its Idempotency-Key once the database was back: made then, and once.
    assert probe.referral.accepted
    made = by_correlation(events, "intake")[probe.referral.correlation_id]
    assert [e.event_type for e in made] == REFERRAL_SET
    assert {e.stream_id for e in made} == {f"referral-{probe.referral.referral_id}"}


async def test_no_request_got_a_server_error_other_than_503_with_retry_after(
    scenario: Record,
) -> None:
    answers = [*scenario.load.answers(), *scenario.probe.during]
    errors = [a for a in answers if a.status is not None and a.status >= 500]
    assert errors, "the outage should have refused some requests"
    assert [a for a in errors if not is_503_to_retry(a)] == []


async def test_every_accepted_referral_has_exactly_one_set_of_events_and_no_other_any(
    scenario: Record, db: asyncpg.Connection
) -> None:
    requests = [*scenario.load.referrals, scenario.probe.referral]
    assert all(r.accepted and r.status == "admitted" for r in requests), [
        (r.key, r.answers) for r in requests if not r.accepted
    ]
    caused = by_correlation(await stored_events(db), "intake")
    for request in requests:
        events = caused.pop(request.correlation_id, [])
        assert [(e.event_type, e.stream_version) for e in events] == [
            (t, v) for v, t in enumerate(REFERRAL_SET, start=1)
        ], f"referral {request.key} sent {len(request.answers)} times"
        assert {e.stream_id for e in events} == {f"referral-{request.referral_id}"}
    assert caused == {}, "events no accepted referral asked for"


async def test_every_case_command_stored_its_events_whole_or_not_at_all(
    scenario: Record, db: asyncpg.Connection
) -> None:
    commands = scenario.load.commands
    assert {c.outcome for c in commands} >= {"accepted", "refused"}
    events = await stored_events(db)
    caused = by_correlation(events, "casework")
    for command in commands:
        stored = caused.get(command.correlation_id, [])
        if command.outcome == "accepted":
            assert [e.event_type for e in stored] == command.stored, command
        elif command.outcome == "refused":
            assert stored == [], command
        elif stored:  # unknown: the answer was lost; it may have been applied, but whole
            assert stored[0].event_type == FIRST_OF[command.kind], command
        assert_one_stretch_of(command, stored)

    # Every admitted referral opened exactly one case, assigned once; no other case exists.
    cases = {
        e.envelope.stream_id
        for e in events
        if e.service == "casework" and e.envelope.event_type not in ACCESS_EVENTS
    }
    admitted = [*scenario.load.accepted_referrals(), scenario.probe.referral]
    assert cases == {f"case-{r.case_id}" for r in admitted}
    for request in admitted:
        opening = [
            e.event_type
            for e in caused.get(request.correlation_id, [])
            if e.stream_id == f"case-{request.case_id}"
        ]
        assert opening == ["CaseOpened", "CaseManagerAssigned"], request.key


def assert_one_stretch_of(command: CaseCommand, stored: list[EventEnvelope]) -> None:
    """A command's events are on its case's stream, in the order it decided them."""
    if not stored:
        return
    assert {e.stream_id for e in stored} == {f"case-{command.case_id}"}
    versions = [e.stream_version for e in stored]
    assert versions == sorted(set(versions)), command


async def test_every_stored_event_is_in_the_ledger_exactly_once_in_its_streams_order(
    db: asyncpg.Connection,
) -> None:
    events = await stored_events(db)
    entries = await ledger(db)
    assert len({e.event_id for e in entries}) == len(entries)
    assert {e.event_id for e in entries} == {e.event_id for e in events}
    seq_of = {entry.event_id: entry.seq for entry in entries}
    streams: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for stored in events:
        streams.setdefault(stored.stream, []).append(
            (stored.envelope.stream_version, seq_of[stored.event_id])
        )
    for stream, versions in streams.items():
        in_version_order = [seq for _, seq in sorted(versions)]
        assert in_version_order == sorted(in_version_order), f"{stream} out of order"
    assert {s.service for s in events} == set(SERVICES)


async def test_every_consumer_handled_every_event_it_takes_exactly_once(
    scenario: Record, db: asyncpg.Connection, bus: NATS
) -> None:
    entries = await ledger(db)
    filters = await consumer_filters(bus.jetstream())
    inbox_consumers = {name: f for name, f in filters.items() if service_of(name) != "audit"}
    assert len(inbox_consumers) >= 4, filters
    for name, subjects in inbox_consumers.items():
        wanted = {
            e.event_id for e in entries if any(subject_matches(s, e.subject) for s in subjects)
        }
        handled = await inbox(db, service_of(name), name)
        assert len(handled) == len(set(handled))
        assert set(handled) == wanted, f"{name}: {len(wanted - set(handled))} never handled"
    duplicated = {d.event_id for d in scenario.duplicates}
    assert duplicated <= {e.event_id for e in entries}


async def test_every_case_timeline_is_in_the_state_its_events_say(
    db: asyncpg.Connection, temporal: Client
) -> None:
    events = await stored_events(db)
    cases: dict[UUID, list[EventEnvelope]] = {}
    for stored in events:
        if stored.service == "casework" and stored.envelope.event_type not in ACCESS_EVENTS:
            case_id = UUID(stored.envelope.stream_id.removeprefix("case-"))
            cases.setdefault(case_id, []).append(stored.envelope)
    assert cases
    turns = asyncio.Semaphore(8)

    async def disagreement(case_id: UUID, history: list[EventEnvelope]) -> str | None:
        state = replay(payload_of(e) for e in history)
        assert state is not None
        handle = temporal.get_workflow_handle(workflow_id_for(case_id))
        async with turns:
            held = await handle.query(FACTS_QUERY, result_type=TimelineFacts)
            status = (await handle.describe()).status
        if state.is_open:
            agrees = held == facts_of(state) and status == RUNNING
        else:
            # A closed case's timeline has ended, knowing it was closed; nothing else matters
            # to it any more.
            agrees = held.closed and status == COMPLETED and await handle.result() == "closed"
        if not agrees:
            return f"case {case_id}: timeline {held} ({status}), events {facts_of(state)}"
        return None

    async def all_agree() -> bool:
        found = await asyncio.gather(*(disagreement(c, h) for c, h in cases.items()))
        wrong[:] = [f for f in found if f]
        return not wrong

    wrong: list[str] = []
    try:
        await wait_for(all_agree, timeout=60, what="every timeline to agree", every=1)
    except AssertionError:
        raise AssertionError("\n".join(wrong[:10])) from None


async def test_the_ledger_verifies(stack: Stack, scenario: Record, db: asyncpg.Connection) -> None:
    auditor = stack.token("auditor-1", "auditor", "county-audit")
    before = len(await ledger(db))
    async with stack.client("audit", auditor, timeout=60) as http:
        response = await http.get("/ledger/verify")
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    assert report["intact"], report
    # The auditor's own read is an entry too, and may join while the walk is under way.
    assert before <= report["entries_checked"] <= len(await ledger(db))
    assert report["checkpoints_checked"] >= 1


async def test_dead_letters_hold_exactly_the_malformed_message_once_per_consumer_taking_it(
    db: asyncpg.Connection, bus: NATS
) -> None:
    filters = await consumer_filters(bus.jetstream())
    takers = sorted(
        name
        for name, subjects in filters.items()
        if any(subject_matches(s, MALFORMED_SUBJECT) for s in subjects)
    )
    assert {service_of(name) for name in takers} == set(SERVICES), takers
    letters = await dead_letters(db)
    assert sorted(letters) == sorted(
        (service_of(name), name, MALFORMED_SUBJECT, MALFORMED_BODY, None) for name in takers
    )
    for service in SERVICES:
        assert await db.fetchval(f"SELECT count(*) FROM {service}.inbox_failures") == 0

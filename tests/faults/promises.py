"""The promises a system under faults must keep, each checked against what it holds afterwards.

Shared by the fault suite (one process of each service, one of each server) and the scale-out
test (two replicas of each service on a NATS cluster): the promises are the same however many
copies of a part there are, so they are written once.
"""

import asyncio
from typing import Any
from uuid import UUID

import asyncpg
import httpx
from nats.js import JetStreamContext
from temporalio.client import Client, WorkflowExecutionStatus

from casework.timeline.activities import facts_of
from casework.timeline.model import FACTS_QUERY, TimelineFacts, workflow_id_for
from offramp_contracts import EventEnvelope, payload_of
from offramp_contracts.lifecycle import replay
from offramp_devstack.waiting import wait_for
from tests.faults.load import CaseCommand, ReferralRequest
from tests.faults.reconcile import (
    ACCESS_EVENTS,
    LedgerEntry,
    Stored,
    by_correlation,
    consumer_filters,
    dead_letters,
    inbox,
    ledger,
    service_of,
    subject_matches,
)
from tests.faults.scenario import MALFORMED_BODY, MALFORMED_SUBJECT
from tests.faults.stack import SERVICES

RUNNING = WorkflowExecutionStatus.RUNNING
COMPLETED = WorkflowExecutionStatus.COMPLETED
REFERRAL_SET = ["ReferralReceived", "EligibilityDecided", "ReferralAdmitted"]


def every_referral_has_one_set_of_events(
    requests: list[ReferralRequest], events: list[Stored]
) -> None:
    """Every referral was accepted in the end, each with exactly one set of events on its own
    stream, and intake holds no referral nobody asked for."""
    assert all(r.accepted and r.status == "admitted" for r in requests), [
        (r.key, r.answers) for r in requests if not r.accepted
    ]
    caused = by_correlation(events, "intake")
    for request in requests:
        made = caused.pop(request.correlation_id, [])
        assert [(e.event_type, e.stream_version) for e in made] == [
            (t, v) for v, t in enumerate(REFERRAL_SET, start=1)
        ], f"referral {request.key} sent {len(request.answers)} times"
        assert {e.stream_id for e in made} == {f"referral-{request.referral_id}"}
    assert caused == {}, "events no accepted referral asked for"


def every_command_stored_whole_or_nothing(
    commands: list[CaseCommand], admitted: list[ReferralRequest], events: list[Stored]
) -> None:
    """Every command got a definite answer, however many times it was sent: an accepted one has
    exactly one set of events (what its answer said it stored, once), a refused one none;
    every admitted referral opened exactly one case, assigned once."""
    assert all(c.outcome in ("accepted", "refused") for c in commands), [
        (c.key, c.answers) for c in commands if c.outcome is None
    ]
    assert any(c.outcome == "accepted" for c in commands)
    caused = by_correlation(events, "casework")
    for command in commands:
        stored = caused.get(command.correlation_id, [])
        if command.outcome == "accepted":
            assert [e.event_type for e in stored] == command.stored, (
                f"{command.kind} sent {len(command.answers)} times",
                command,
            )
        else:
            assert stored == [], command
        _one_stretch_of(command, stored)

    cases = {
        e.envelope.stream_id
        for e in events
        if e.service == "casework" and e.envelope.event_type not in ACCESS_EVENTS
    }
    assert cases == {f"case-{r.case_id}" for r in admitted}
    closed_unassigned = _closed_before_assignment(events)
    for request in admitted:
        case = f"case-{request.case_id}"
        opening = [
            e.event_type for e in caused.get(request.correlation_id, []) if e.stream_id == case
        ]
        # A timeline's assignment step that was lost with a killed worker runs again only after
        # its timeout; a case manager may have closed the case by then, and it stays unassigned.
        expected = (
            ["CaseOpened"] if case in closed_unassigned else ["CaseOpened", "CaseManagerAssigned"]
        )
        assert opening == expected, request.key


def _closed_before_assignment(events: list[Stored]) -> set[str]:
    """Case streams closed while no case manager had been assigned."""
    assigned: set[str] = set()
    closed: set[str] = set()
    for stored in sorted(events, key=lambda s: (s.envelope.stream_id, s.envelope.stream_version)):
        stream, kind = stored.envelope.stream_id, stored.envelope.event_type
        if stored.service != "casework":
            continue
        if kind == "CaseManagerAssigned":
            assigned.add(stream)
        elif kind == "CaseClosed" and stream not in assigned:
            closed.add(stream)
    return closed


def _one_stretch_of(command: CaseCommand, stored: list[EventEnvelope]) -> None:
    """A command's events are on its case's stream, in the order it decided them."""
    if not stored:
        return
    assert {e.stream_id for e in stored} == {f"case-{command.case_id}"}
    versions = [e.stream_version for e in stored]
    assert versions == sorted(set(versions)), command


def every_event_in_the_ledger_once_in_order(
    events: list[Stored], entries: list[LedgerEntry]
) -> None:
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


async def every_consumer_handled_each_event_once(
    db: asyncpg.Connection, js: JetStreamContext, entries: list[LedgerEntry]
) -> None:
    filters = await consumer_filters(js)
    inbox_consumers = {name: f for name, f in filters.items() if service_of(name) != "audit"}
    assert len(inbox_consumers) >= 4, filters
    for name, subjects in inbox_consumers.items():
        wanted = {
            e.event_id for e in entries if any(subject_matches(s, e.subject) for s in subjects)
        }
        handled = await inbox(db, service_of(name), name)
        assert len(handled) == len(set(handled))
        assert set(handled) == wanted, f"{name}: {len(wanted - set(handled))} never handled"


async def every_timeline_agrees_with_its_events(events: list[Stored], temporal: Client) -> None:
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


async def the_ledger_verifies(auditor: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    """`GET /ledger/verify` says intact, over at least what was there before the auditor asked
    (the auditor's own read is an entry too, and may join while the walk is under way)."""
    before = len(await ledger(db))
    response = await auditor.get("/ledger/verify")
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    assert report["intact"], report
    assert before <= report["entries_checked"] <= len(await ledger(db))
    assert report["checkpoints_checked"] >= 1


async def only_the_planted_dead_letters(
    db: asyncpg.Connection, js: JetStreamContext, planted: int = 1
) -> None:
    """Dead letters hold the malformed message `planted` times for each consumer taking it, and
    nothing else; no handler failure is left counting."""
    filters = await consumer_filters(js)
    takers = sorted(
        name
        for name, subjects in filters.items()
        if any(subject_matches(s, MALFORMED_SUBJECT) for s in subjects)
    )
    assert {service_of(name) for name in takers} == set(SERVICES), takers
    letters = await dead_letters(db)
    expected = [
        (service_of(name), name, MALFORMED_SUBJECT, MALFORMED_BODY, None) for name in takers
    ]
    assert sorted(letters) == sorted(expected * planted)
    for service in SERVICES:
        assert await db.fetchval(f"SELECT count(*) FROM {service}.inbox_failures") == 0

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

import asyncpg
import pytest
from nats.aio.client import Client as NATS
from temporalio.client import Client

from tests.faults import promises
from tests.faults.load import PROBLEM_JSON, Answer, ReferralRequest
from tests.faults.reconcile import by_correlation, ledger, stored_events
from tests.faults.scenario import Record, fault_rounds
from tests.faults.stack import RETRY_AFTER_SECONDS, SERVICES, Stack

# The scenario (servers, services, load, faults, settling) runs in the first test's setup; a
# soak (OFFRAMP_FAULT_ROUNDS) repeats its kills, a little under a minute a round.
pytestmark = pytest.mark.timeout(300 + 300 * fault_rounds())

KILLS = [*(f"kill -9 {name}" for name in SERVICES), "kill -9 nats-server", "kill -9 postgres"]


def is_503_to_retry(answer: Answer) -> bool:
    return (
        answer.status == 503
        and answer.retry_after == str(RETRY_AFTER_SECONDS)
        and answer.content_type == PROBLEM_JSON
        and (answer.problem_type or "").endswith("/service-unavailable")
    )


async def test_the_faults_all_happened_under_load(scenario: Record) -> None:
    assert scenario.faults == [
        *KILLS * fault_rounds(),
        "SIGSTOP notify past its ack wait",
        "duplicates and a malformed message",
    ]
    assert scenario.paused["num_ack_pending"] > 0
    assert all(d.stored_again for d in scenario.duplicates)
    answers = [*scenario.load.answers(), *(a for p in scenario.probes for a in p.during)]
    assert any(a.status is None for a in answers), "no request ever met a dead service"
    assert any(a.status == 503 for a in answers), "no request ever met the database outage"


async def test_during_the_postgres_outage_writes_got_503_with_retry_after_and_stored_nothing(
    scenario: Record, db: asyncpg.Connection
) -> None:
    events = await stored_events(db)
    assert len(scenario.probes) == fault_rounds()
    for probe in scenario.probes:
        assert is_503_to_retry(probe.during[-2]), probe.during  # the referral
        assert is_503_to_retry(probe.during[-1]), probe.during  # the contact
        assert probe.contact.outcome == "refused"
        assert by_correlation(events, "casework").get(probe.contact.correlation_id, []) == []
        # Sent again with its Idempotency-Key once the database was back: made then, and once.
        assert probe.referral.accepted
        made = by_correlation(events, "intake")[probe.referral.correlation_id]
        assert [e.event_type for e in made] == promises.REFERRAL_SET
        assert {e.stream_id for e in made} == {f"referral-{probe.referral.referral_id}"}


async def test_no_request_got_a_server_error_other_than_503_with_retry_after(
    scenario: Record,
) -> None:
    answers = [*scenario.load.answers(), *(a for p in scenario.probes for a in p.during)]
    errors = [a for a in answers if a.status is not None and a.status >= 500]
    assert errors, "the outage should have refused some requests"
    assert [a for a in errors if not is_503_to_retry(a)] == []


def probed_referrals(scenario: Record) -> list[ReferralRequest]:
    return [p.referral for p in scenario.probes]


async def test_every_accepted_referral_has_exactly_one_set_of_events_and_no_other_any(
    scenario: Record, db: asyncpg.Connection
) -> None:
    requests = [*scenario.load.referrals, *probed_referrals(scenario)]
    promises.every_referral_has_one_set_of_events(requests, await stored_events(db))


async def test_every_case_command_stored_its_events_whole_or_not_at_all(
    scenario: Record, db: asyncpg.Connection
) -> None:
    admitted = [*scenario.load.accepted_referrals(), *probed_referrals(scenario)]
    promises.every_command_stored_whole_or_nothing(
        scenario.load.commands, admitted, await stored_events(db)
    )


async def test_every_stored_event_is_in_the_ledger_exactly_once_in_its_streams_order(
    db: asyncpg.Connection,
) -> None:
    promises.every_event_in_the_ledger_once_in_order(await stored_events(db), await ledger(db))


async def test_every_consumer_handled_every_event_it_takes_exactly_once(
    scenario: Record, db: asyncpg.Connection, bus: NATS
) -> None:
    entries = await ledger(db)
    await promises.every_consumer_handled_each_event_once(db, bus.jetstream(), entries)
    duplicated = {d.event_id for d in scenario.duplicates}
    assert duplicated <= {e.event_id for e in entries}


async def test_every_case_timeline_is_in_the_state_its_events_say(
    db: asyncpg.Connection, temporal: Client
) -> None:
    await promises.every_timeline_agrees_with_its_events(await stored_events(db), temporal)


async def test_the_ledger_verifies(stack: Stack, scenario: Record, db: asyncpg.Connection) -> None:
    auditor = stack.token("auditor-1", "auditor", "county-audit")
    async with stack.client("audit", auditor, timeout=60) as http:
        await promises.the_ledger_verifies(http, db)


async def test_dead_letters_hold_exactly_the_malformed_message_once_per_consumer_taking_it(
    db: asyncpg.Connection, bus: NATS
) -> None:
    await promises.only_the_planted_dead_letters(db, bus.jetstream())

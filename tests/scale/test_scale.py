"""Two replicas of every service on a three-node NATS cluster, under load sent to the replicas
in turn, lose nothing when the node leading the stream and then the replica holding each lease
are SIGKILLed and restarted (`scenario.py`). Afterwards, as the fault suite reconciles
(`tests/faults/promises.py`), and besides:

- every replica served requests, and both casework replicas poll the one task queue;
- the stream and every durable consumer keep three copies, one on each node, all current;
- each killed lease holder's lease was taken by its standby before it came back;
- the load was served again at half its earlier pace or better after each kill.
"""

import asyncpg
import pytest
from nats.aio.client import Client as NATS
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from offramp_devstack.waiting import wait_for
from tests.faults import promises
from tests.faults.reconcile import ledger, stored_events
from tests.faults.scenario import fault_rounds
from tests.faults.stack import SERVICES, STREAM
from tests.scale.scenario import LEASE_OF, RECOVERED, ScaleRecord
from tests.scale.stack import REPLICAS, STREAM_REPLICAS, ScaleStack

# Start-up, load, kills and settling run in the first test's setup.
pytestmark = pytest.mark.timeout(300 + 200 * fault_rounds())

TASK_QUEUE = "casework-faults"


async def test_every_kill_happened_under_load_and_the_load_was_served_again_after_each(
    scenario: ScaleRecord,
) -> None:
    kills = [
        "kill -9 the NATS node leading the stream",
        *(f"kill -9 the {name} replica holding {LEASE_OF[name]}" for name in SERVICES),
    ]
    assert scenario.faults == kills * fault_rounds()
    assert [r.fault for r in scenario.recoveries] == scenario.faults
    assert all(r.after >= RECOVERED * r.baseline for r in scenario.recoveries)
    assert any(a.status is None for a in scenario.load.answers()), "no request met a dead replica"


async def test_a_standby_took_each_lease_its_holder_held_when_killed(scenario: ScaleRecord) -> None:
    assert [(t.service, t.lease) for t in scenario.takeovers] == [
        (name, LEASE_OF[name]) for name in SERVICES
    ] * fault_rounds()
    assert all(t.taken_by != t.killed for t in scenario.takeovers)


async def test_every_replica_of_every_service_answered_requests(
    stack: ScaleStack, scenario: ScaleRecord
) -> None:
    # The load's requests go to intake and casework; audit's are the auditor's, below.
    for name in ("intake", "casework"):
        for replica in stack.replicas[name]:
            assert stack.answered[replica.port] > 10, (name, dict(stack.answered))


async def test_both_casework_replicas_poll_the_timelines_task_queue(
    stack: ScaleStack, temporal: Client
) -> None:
    wanted = {str(p.pid) for p in stack.replicas["casework"]}

    async def polling() -> bool:
        found = await temporal.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace="default",
                task_queue=TaskQueue(name=TASK_QUEUE),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            )
        )
        # A worker's identity is `<pid>@<host>` by default.
        return wanted <= {p.identity.split("@", 1)[0] for p in found.pollers}

    await wait_for(polling, timeout=30, what="both casework replicas to poll", every=0.5)
    assert len(wanted) == REPLICAS


async def test_the_stream_and_every_consumer_keep_a_current_copy_on_each_node(
    scenario: ScaleRecord, bus: NATS
) -> None:
    js = bus.jetstream()
    assert (await js.stream_info(STREAM)).config.num_replicas == STREAM_REPLICAS

    async def every_copy_current() -> bool:
        cluster = (await js.stream_info(STREAM)).cluster
        copies = (cluster.replicas if cluster else None) or []
        return len(copies) == STREAM_REPLICAS - 1 and all(c.current for c in copies)

    await wait_for(every_copy_current, timeout=30, what="each node's copy to be current")
    for consumer in await js.consumers_info(STREAM):
        assert consumer.cluster is not None, consumer.name
        assert len(consumer.cluster.replicas or []) == STREAM_REPLICAS - 1, consumer.name
    assert len(set(scenario.killed_leaders)) >= 1


async def test_every_accepted_referral_has_exactly_one_set_of_events_and_no_other_any(
    scenario: ScaleRecord, db: asyncpg.Connection
) -> None:
    promises.every_referral_has_one_set_of_events(scenario.load.referrals, await stored_events(db))


async def test_every_case_command_stored_its_events_whole_or_not_at_all(
    scenario: ScaleRecord, db: asyncpg.Connection
) -> None:
    promises.every_command_stored_whole_or_nothing(
        scenario.load.commands, scenario.load.accepted_referrals(), await stored_events(db)
    )


async def test_every_stored_event_is_in_the_ledger_exactly_once_in_its_streams_order(
    db: asyncpg.Connection,
) -> None:
    promises.every_event_in_the_ledger_once_in_order(await stored_events(db), await ledger(db))


async def test_every_consumer_handled_every_event_it_takes_exactly_once(
    db: asyncpg.Connection, bus: NATS
) -> None:
    await promises.every_consumer_handled_each_event_once(db, bus.jetstream(), await ledger(db))


async def test_every_case_timeline_is_in_the_state_its_events_say(
    db: asyncpg.Connection, temporal: Client
) -> None:
    await promises.every_timeline_agrees_with_its_events(await stored_events(db), temporal)


async def test_the_ledger_verifies_on_either_audit_replica(
    stack: ScaleStack, db: asyncpg.Connection
) -> None:
    auditor = stack.token("auditor-1", "auditor", "county-audit")
    async with stack.client("audit", auditor, timeout=60) as http:
        for _ in stack.replicas["audit"]:  # the client takes each replica in turn
            await promises.the_ledger_verifies(http, db)
    for replica in stack.replicas["audit"]:
        assert stack.answered[replica.port] >= 1


async def test_dead_letters_hold_only_the_planted_message(
    db: asyncpg.Connection, bus: NATS
) -> None:
    await promises.only_the_planted_dead_letters(db, bus.jetstream())

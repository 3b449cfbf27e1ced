"""The kills of the scale-out test, in turn, while officers and case managers work through the
replicas: the NATS node leading the stream, then for each service the replica holding its
lease (the outbox relay's; audit's ledger writer's), each SIGKILLed and started again. After
each, the load must be served again at half its pace before the kill or better. Then a
malformed message is planted, the load stops and the system settles."""

import time
from dataclasses import dataclass, field

import nats

from offramp_devstack import ServiceProcess
from offramp_devstack.waiting import wait_for
from tests.faults.load import Load, LoadRecord
from tests.faults.scenario import (
    Steps,
    fault_rounds,
    progress,
    publish_duplicates_and_malformed,
    register_case_manager,
    settled,
)
from tests.faults.stack import SERVICES, STREAM
from tests.scale.stack import ScaleStack

# The lease each kill aims at: the one whose loss matters most to the service.
LEASE_OF = {
    "intake": "outbox-relay",
    "casework": "outbox-relay",
    "notify": "outbox-relay",
    "audit": "ledger-writer",
}
# Throughput is measured over this many accepted requests (referrals and case commands).
WINDOW = 20
# Served again means: at least this share of the pace before the first kill.
RECOVERED = 0.5


@dataclass(frozen=True)
class Recovery:
    fault: str
    baseline: float  # accepted requests per second before the first kill
    after: float  # in the first window that reached RECOVERED of it, after the restart
    seconds: float  # from the restart until then


@dataclass(frozen=True)
class Takeover:
    """A lease held by the replica that was killed, and who held it before it was back."""

    service: str
    lease: str
    killed: int
    taken_by: int


@dataclass
class ScaleRecord:
    load: LoadRecord
    faults: list[str] = field(default_factory=list)
    recoveries: list[Recovery] = field(default_factory=list)
    takeovers: list[Takeover] = field(default_factory=list)
    killed_leaders: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


async def run_scale_scenario(stack: ScaleStack) -> ScaleRecord:
    await register_case_manager(stack)
    load = Load(stack)
    steps = Steps()
    recoveries: list[Recovery] = []
    takeovers: list[Takeover] = []
    leaders: list[str] = []
    load.start()
    try:
        async with steps.timed("warm-up"):
            await progress(load, referrals=6, commands=4, what="the load to warm up")
            baseline = await throughput(load)
        for _ in range(fault_rounds()):
            leader = await stream_leader(stack)
            leaders.append(leader)
            async with steps.fault("kill -9 the NATS node leading the stream", load):
                stack.nats.kill(leader)
                await stack.nats.start_node(leader)
                await stack.nats.wait_healthy()
                await stack.all_ready()
            recoveries.append(await recovery(load, baseline, steps.faults[-1]))
            for name in SERVICES:
                lease = LEASE_OF[name]
                async with steps.fault(f"kill -9 the {name} replica holding {lease}", load):
                    takeovers.append(await kill_lease_holder(stack, name, lease))
                recoveries.append(await recovery(load, baseline, steps.faults[-1]))
        async with steps.timed("a malformed message"):
            await publish_duplicates_and_malformed(stack)
    finally:
        record = await load.stop()
    async with steps.timed("settling"):
        await settled(stack)
    return ScaleRecord(record, steps.faults, recoveries, takeovers, leaders, steps.seconds)


async def throughput(load: Load, within: float = 60) -> float:
    """Accepted requests per second, over the next WINDOW of them."""
    began = time.monotonic()

    async def counted() -> bool:
        return load.record.accepted_since(began) >= WINDOW

    await wait_for(counted, timeout=within, what=f"{WINDOW} requests to be accepted", every=0.05)
    return WINDOW / (time.monotonic() - began)


async def recovery(load: Load, baseline: float, fault: str, within: float = 60) -> Recovery:
    """Measure window after window until one reaches RECOVERED of the baseline."""
    began = time.monotonic()
    while True:
        rate = await throughput(load, within)
        if rate >= RECOVERED * baseline:
            return Recovery(fault, round(baseline, 1), round(rate, 1), time.monotonic() - began)
        if time.monotonic() - began > within:
            raise AssertionError(
                f"after {fault}, throughput stayed at {rate:.1f}/s, under "
                f"{RECOVERED:.0%} of the {baseline:.1f}/s before"
            )


async def stream_leader(stack: ScaleStack) -> str:
    client = await nats.connect(stack.nats_servers, **stack.nats_connect_options())
    try:
        info = await client.jetstream().stream_info(STREAM)
    finally:
        await client.close()
    assert info.cluster is not None and info.cluster.leader, info
    return info.cluster.leader


async def kill_lease_holder(stack: ScaleStack, service: str, lease: str) -> Takeover:
    """SIGKILL the replica holding `lease`, wait until a standby holds it, restart the killed."""
    replicas = stack.replicas[service]
    holder = await wait_for(
        lambda: lease_holder(stack, replicas, f"{service}:{lease}"),
        timeout=30,
        what=f"a {service} replica to hold {lease}",
    )
    killed = replicas.index(holder)
    holder.kill()

    async def taken_over() -> ServiceProcess | None:
        now = await lease_holder(stack, replicas, f"{service}:{lease}")
        return now if now is not None and now is not holder else None

    standby = await wait_for(
        taken_over, timeout=30, what=f"a standby to take {service}'s {lease}", every=0.1
    )
    await holder.start()
    return Takeover(service, lease, killed, replicas.index(standby))


async def lease_holder(
    stack: ScaleStack, replicas: list[ServiceProcess], key: str
) -> ServiceProcess | None:
    """The replica whose session holds the advisory lock of `key` (servicekit.lease), known by
    the process id in its application_name (servicekit.database)."""
    conn = await stack.connect()
    try:
        names = await conn.fetch(
            """SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
               WHERE l.locktype = 'advisory' AND l.granted
                 AND l.objid = (hashtext($1)::bigint & 4294967295)::oid""",
            key,
        )
    finally:
        await conn.close()
    pids = {int(r["application_name"].split("/", 1)[1].split("@", 1)[0]) for r in names}
    return next((r for r in replicas if r.running() and r.pid in pids), None)

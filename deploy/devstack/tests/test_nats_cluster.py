"""A three-node JetStream cluster on loopback, as the scale-out test and `deploy/` run it."""

import asyncio
import json
from pathlib import Path

import nats
import nats.errors
from nats.js import JetStreamContext
from nats.js.api import StreamConfig

from offramp_devstack import NatsNode, nats_config, start_nats_cluster
from offramp_devstack.waiting import wait_for


def test_a_lone_node_is_configured_without_routes_and_syncs_only_when_asked(
    tmp_path: Path,
) -> None:
    config = nats_config(NatsNode("nats", 4222, 8222), tmp_path)
    assert "cluster" not in config
    assert "sync_interval" not in config["jetstream"]
    assert (
        nats_config(NatsNode("nats", 4222, 8222), tmp_path, sync_always=True)["jetstream"][
            "sync_interval"
        ]
        == "always"
    )


def test_a_clustered_node_routes_to_every_peer_but_itself(tmp_path: Path) -> None:
    nodes = [NatsNode(f"nats-{n}", 4222 + n, 8222 + n, 6222 + n) for n in range(3)]
    config = nats_config(nodes[1], tmp_path, peers=nodes, extra={"authorization": {"x": 1}})
    assert config["cluster"]["routes"] == [
        "nats-route://127.0.0.1:6222",
        "nats-route://127.0.0.1:6224",
    ]
    assert config["cluster"]["port"] == 6223
    assert config["authorization"] == {"x": 1}
    json.dumps(config)  # written as JSON, which nats-server reads as its own format


async def test_a_replicated_stream_keeps_every_message_through_a_node_killed_and_restarted(
    tmp_path: Path,
) -> None:
    cluster = await start_nats_cluster(tmp_path / "nats")
    try:
        client = await nats.connect(cluster.servers, **cluster.connect_options())
        js = client.jetstream()
        await js.add_stream(StreamConfig(name="KEPT", subjects=["kept.>"], num_replicas=3))
        # A new R3 stream may not have elected its leader yet when add_stream returns.
        for n in range(50):
            await publish_until_acked(js, "kept.before", str(n).encode(), f"before-{n}")
        cluster_info = (await js.stream_info("KEPT")).cluster
        leader = cluster_info.leader if cluster_info else None
        assert leader is not None, "a replicated stream names the node that leads it"
        cluster.kill(leader)
        for n in range(50):
            await publish_until_acked(js, "kept.during", str(n).encode(), f"during-{n}")
        await cluster.start_node(leader)
        await cluster.wait_healthy()
        assert (await js.stream_info("KEPT")).state.messages == 100

        async def every_copy_current() -> bool:
            cluster_info = (await js.stream_info("KEPT")).cluster
            replicas = cluster_info.replicas if cluster_info else None
            return (
                bool(replicas)
                and len(replicas or []) == 2
                and all(r.current for r in replicas or [])
            )

        await wait_for(every_copy_current, timeout=30, what="the restarted copy to catch up")
        await client.close()
    finally:
        cluster.stop()


async def publish_until_acked(js: JetStreamContext, subject: str, body: bytes, msg_id: str) -> None:
    """As the outbox relay does: while the stream elects a new leader (and the client finds
    another node) a publish has no responder; send it again, the same message id, until acked."""
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        try:
            await js.publish(subject, body, headers={"Nats-Msg-Id": msg_id}, timeout=2)
            return
        except (nats.errors.Error, TimeoutError):
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.1)

"""nats-server's configuration, written in one place, and a cluster of nodes on loopback.

`nats_config` is the one function that says how a node is configured, single or clustered: the
devstack's lone server and every node of a cluster are started from the file it returns (nats-
server reads JSON as its configuration format). What a deployment adds (users and subject
permissions, TLS) belongs in it too, so the laptop, the tests and production agree.

A cluster runs JetStream on every node with routes between them; streams created with
`num_replicas=3` keep a copy on each node and go on with any two of them (a RAFT quorum).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from offramp_devstack import nats_auth
from offramp_devstack._proc import (
    ServerProcess,
    find_binary,
    spawn,
    tcp_connects,
    wait_until_ready,
)
from offramp_devstack.ports import free_ports
from offramp_devstack.waiting import wait_for

__all__ = ["NatsCluster", "NatsNode", "nats_config", "start_nats_cluster", "start_nats_node"]

CLUSTER_NAME = "offramp"


@dataclass(frozen=True)
class NatsNode:
    """Where one nats-server listens: clients, monitoring, and (clustered) its routes."""

    name: str
    port: int
    monitor_port: int
    cluster_port: int | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def monitor_url(self) -> str:
        return f"http://127.0.0.1:{self.monitor_port}"


def nats_config(
    node: NatsNode,
    store_dir: Path,
    *,
    peers: Sequence[NatsNode] = (),
    sync_always: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The configuration of `node`, storing JetStream under `store_dir`.

    With `peers` (every node of the cluster, this one included) it routes to the others.
    `sync_always` makes JetStream fsync each write before acknowledging it, as production does
    (by default it syncs every two minutes and acknowledges what only the page cache holds).
    `extra` is merged in at the top level: authorization, accounts, TLS."""
    jetstream: dict[str, Any] = {"store_dir": str(store_dir)}
    if sync_always:
        jetstream["sync_interval"] = "always"
    config: dict[str, Any] = {
        "server_name": node.name,
        "host": "127.0.0.1",
        "port": node.port,
        "http": f"127.0.0.1:{node.monitor_port}",
        "jetstream": jetstream,
    }
    if peers:
        if node.cluster_port is None:
            raise ValueError(f"{node.name} is clustered but has no cluster port")
        config["cluster"] = {
            "name": CLUSTER_NAME,
            "host": "127.0.0.1",
            "port": node.cluster_port,
            "routes": [
                f"nats-route://127.0.0.1:{peer.cluster_port}" for peer in peers if peer != node
            ],
        }
    return {**config, **(extra or {})}


def _healthy(node: NatsNode, *, js_enabled_only: bool) -> bool:
    """`/healthz` answers 200: JetStream is on; without `js_enabled_only`, also healthy as a
    member of its cluster."""
    params = {"js-enabled-only": "true"} if js_enabled_only else {}
    try:
        answered = httpx.get(f"{node.monitor_url}/healthz", params=params, timeout=2).is_success
    except httpx.HTTPError:
        return False
    # Monitoring starts before the client listener; wait for both.
    return answered and tcp_connects(node.port)


def start_nats_node(
    node: NatsNode,
    store_dir: Path,
    log_path: Path,
    *,
    peers: Sequence[NatsNode] = (),
    sync_always: bool = False,
    timeout: float = 30,
    authorization: Mapping[str, Any] | None = None,
) -> ServerProcess:
    """Write the node's configuration next to its store and start it; ready once JetStream is
    on (a clustered node's full health needs its peers: see `NatsCluster.wait_healthy`).
    `authorization` is `nats_auth.authorization(...)`: the users and what each may do."""
    store_dir = store_dir.resolve()
    store_dir.mkdir(parents=True, exist_ok=True)
    conf = store_dir / "nats-server.conf"
    config = nats_config(
        node,
        store_dir,
        peers=peers,
        sync_always=sync_always,
        extra={"authorization": authorization} if authorization is not None else None,
    )
    conf.write_text(json.dumps(config, indent=2))
    server = spawn(node.name, [find_binary("nats-server"), "-c", str(conf)], log_path.resolve())
    wait_until_ready(server, lambda: _healthy(node, js_enabled_only=True), timeout)
    return server


@dataclass
class NatsCluster:
    """A JetStream cluster on loopback; `url` is what `OFFRAMP_NATS_URL` takes (every node,
    comma-separated), `servers` what `nats.connect` takes."""

    home: Path
    nodes: list[NatsNode]
    sync_always: bool
    # Every node has the same users (`nats_auth`); their seeds are kept here.
    credentials_dir: Path
    authorization: dict[str, Any]
    servers_by_name: dict[str, ServerProcess] = field(default_factory=dict)

    def seed(self, user: str = nats_auth.ADMIN) -> Path:
        return nats_auth.seed_path(self.credentials_dir, user)

    def connect_options(self, user: str = nats_auth.ADMIN) -> dict[str, str]:
        """`nats.connect(cluster.servers, **cluster.connect_options())`: as `user`."""
        return {"nkeys_seed": str(self.seed(user))}

    @property
    def servers(self) -> list[str]:
        return [node.url for node in self.nodes]

    @property
    def url(self) -> str:
        return ",".join(self.servers)

    def node(self, name: str) -> NatsNode:
        return next(n for n in self.nodes if n.name == name)

    def server(self, name: str) -> ServerProcess:
        return self.servers_by_name[name]

    async def start_node(self, name: str) -> None:
        """Start (or, after a kill, restart) one node on its ports and store."""
        node = self.node(name)
        self.servers_by_name[name] = await asyncio.to_thread(
            start_nats_node,
            node,
            self.home / name,
            self.home / f"{name}.log",
            peers=self.nodes,
            sync_always=self.sync_always,
            authorization=self.authorization,
        )

    def kill(self, name: str) -> None:
        self.servers_by_name[name].kill()

    async def wait_healthy(self, within: float = 60) -> None:
        """Every node running and healthy, and a JetStream meta leader elected. A restarted
        node's copy of a stream may still be catching up (`StreamInfo.cluster.replicas` says
        when it is current); the stream goes on with the other two meanwhile."""

        async def healthy() -> bool:
            checks = [
                asyncio.to_thread(_healthy, node, js_enabled_only=False) for node in self.nodes
            ]
            return all(await asyncio.gather(*checks)) and await asyncio.to_thread(
                self._has_meta_leader
            )

        await wait_for(healthy, timeout=within, what="the NATS cluster to be healthy", every=0.2)

    def _has_meta_leader(self) -> bool:
        try:
            jsz = httpx.get(f"{self.nodes[0].monitor_url}/jsz", timeout=2).json()
        except (httpx.HTTPError, ValueError):
            return False
        meta = jsz.get("meta_cluster") or {}
        return bool(meta.get("leader")) and meta.get("cluster_size") == len(self.nodes)

    def stop(self) -> None:
        for server in self.servers_by_name.values():
            server.stop()


async def start_nats_cluster(
    home: Path,
    size: int = 3,
    *,
    sync_always: bool = True,
    healthy_within: float = 60,
    subject_root: str = "*",
    stream: str = "*",
) -> NatsCluster:
    """Start `size` clustered nodes on free ports under `home` and wait until they are healthy.
    Their users are `nats_auth`'s, for any subject root and stream unless told otherwise."""
    ports = free_ports(3 * size)
    nodes = [
        NatsNode(f"nats-{n}", ports[3 * n], ports[3 * n + 1], ports[3 * n + 2]) for n in range(size)
    ]
    credentials_dir = home / "credentials"
    authorization = nats_auth.authorization(
        credentials_dir, subject_root=subject_root, stream=stream
    )
    cluster = NatsCluster(home, nodes, sync_always, credentials_dir, authorization)
    try:
        # Side by side: a node's JetStream waits for its peers to elect a meta leader.
        await asyncio.gather(*(cluster.start_node(node.name) for node in nodes))
        await cluster.wait_healthy(healthy_within)
    except BaseException:
        cluster.stop()
        raise
    return cluster

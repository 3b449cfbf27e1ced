"""Real NATS JetStream, PostgreSQL and Temporal dev servers, started from PyPI binaries."""

from offramp_devstack.natscluster import (
    NatsCluster,
    NatsNode,
    nats_config,
    start_nats_cluster,
)
from offramp_devstack.ports import free_port, free_ports
from offramp_devstack.servers import (
    Nats,
    Postgres,
    ServerFailedToStart,
    ServerProcess,
    Temporal,
    start_nats,
    start_postgres,
    start_temporal,
)
from offramp_devstack.services import ServiceProcess

__all__ = [
    "Nats",
    "NatsCluster",
    "NatsNode",
    "Postgres",
    "ServerFailedToStart",
    "ServerProcess",
    "ServiceProcess",
    "Temporal",
    "free_port",
    "free_ports",
    "nats_config",
    "start_nats",
    "start_nats_cluster",
    "start_postgres",
    "start_temporal",
]

"""Ports for test stacks: never from the ephemeral range, never handed out twice at once."""

import socket
from pathlib import Path

import pytest

from offramp_devstack import free_ports


def _first_ephemeral() -> int:
    return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])


def test_ports_are_drawn_below_the_range_outgoing_connections_use() -> None:
    ports = free_ports(20)
    assert len(set(ports)) == 20
    assert all(1024 < port < _first_ephemeral() for port in ports)


def test_a_port_reserved_by_one_caller_is_not_handed_to_the_next(tmp_path: Path) -> None:
    span = range(17300, 17330)
    first = free_ports(10, within=span, reservations=tmp_path)
    second = free_ports(10, within=span, reservations=tmp_path)
    third = free_ports(10, within=span, reservations=tmp_path)
    assert len(set(first) | set(second) | set(third)) == 30
    with pytest.raises(RuntimeError, match="0 of 1 ports are free"):
        free_ports(1, within=span, reservations=tmp_path)


def test_a_port_something_listens_on_is_not_handed_out(tmp_path: Path) -> None:
    span = range(17340, 17345)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 17342))
        taken.listen()
        ports = free_ports(4, within=span, reservations=tmp_path)
    assert sorted(ports) == [17340, 17341, 17343, 17344]

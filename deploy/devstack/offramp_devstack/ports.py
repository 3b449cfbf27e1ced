"""Free TCP ports on the loopback interface, chosen where no outgoing connection can take them.

The kernel answers bind(port 0) from its ephemeral range, the same range it draws the local end
of every outgoing connection from. A stack that needs a minute to start all its servers could
find its port taken meanwhile by any process's connection to PostgreSQL (CI saw casework fail
with "address already in use" that way). So ports are drawn at random from below the ephemeral
range, checked free by binding them, and reserved for a while by a marker file, so that two test
workers choosing at the same moment never pick the same port.
"""

from __future__ import annotations

import os
import random
import socket
import tempfile
import time
from pathlib import Path

RESERVATIONS = Path(tempfile.gettempdir()) / "offramp-ports"
RESERVED_FOR = 15 * 60.0
"""Seconds a chosen port stays out of others' choices: long enough for the slowest stack to
start its server on it, after which the bound port itself keeps others off."""

_LOWEST = 20000


def _unclaimed_range() -> range:
    """Ports from 20000 up to the kernel's ephemeral range (32768 by default)."""
    try:
        first_ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        first_ephemeral = 32768
    return range(_LOWEST, max(_LOWEST + 1000, min(first_ephemeral, 32768)))


def _reserve(port: int, reservations: Path) -> bool:
    """Claim `port` for this process unless someone claimed it within RESERVED_FOR."""
    marker = reservations / str(port)
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        return True
    except FileExistsError:
        try:
            if time.time() - marker.stat().st_mtime < RESERVED_FOR:
                return False
            marker.unlink()
        except FileNotFoundError:
            pass
        return _reserve(port, reservations)


def free_ports(
    count: int, *, within: range | None = None, reservations: Path = RESERVATIONS
) -> list[int]:
    """Return `count` distinct ports, each free on 127.0.0.1 now and reserved for this caller.

    Every chosen socket is held bound until all are chosen, so the ports are distinct, and each
    is reserved before it is handed out. Raises RuntimeError when `within` has too few left.
    """
    reservations.mkdir(parents=True, exist_ok=True)
    span = within if within is not None else _unclaimed_range()
    candidates = list(span)
    random.shuffle(candidates)
    held: list[socket.socket] = []
    try:
        for port in candidates:
            if len(held) == count:
                break
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                sock.close()
                continue
            if _reserve(port, reservations):
                held.append(sock)
            else:
                sock.close()
        if len(held) < count:
            raise RuntimeError(
                f"only {len(held)} of {count} ports are free and unreserved in {span}"
            )
        return [int(s.getsockname()[1]) for s in held]
    finally:
        for sock in held:
            sock.close()


def free_port() -> int:
    """Return one port, as free_ports(1) does."""
    return free_ports(1)[0]

"""A whole `make up` stack on free ports in a directory of its own, as an operator has it:
`offramp-dev up` run there, and commands run there with no OFFRAMP_* variable at all."""

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from offramp_devstack import free_ports
from offramp_devstack.stack import Ports, port_variable


def program(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


@dataclass
class Stack:
    root: Path
    ports: Ports
    env: dict[str, str]

    def run(
        self, *argv: str, timeout: float = 120, **extra: str
    ) -> subprocess.CompletedProcess[str]:
        """A command as an operator types it in the directory `make up` ran in."""
        return subprocess.run(
            [program(argv[0]), *argv[1:]],
            cwd=self.root,
            env={**self.env, **extra},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports.service(service)}"

    def token(self, role: str) -> str:
        made = self.run("offramp-dev", "token", role)
        assert made.returncode == 0, made.stderr
        return made.stdout.strip()


def start_stack(root: Path) -> Iterator[Stack]:
    names = list(Ports.__dataclass_fields__)
    ports = Ports(**dict(zip(names, free_ports(len(names)), strict=True)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("OFFRAMP_")}
    up_env = {**env, **ports.variables()}
    stack = Stack(root, ports, env)
    up = subprocess.run(
        [program("offramp-dev"), "up"],
        cwd=root,
        env=up_env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    try:
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        yield stack
    finally:
        stack.run("offramp-dev", "down", timeout=120)


__all__ = ["Stack", "port_variable", "start_stack"]

"""The README pastes: its shell blocks, run in order in one shell against a fresh `make up` on
free ports, each succeed (a block marked `<!-- readme-test: skip ... -->` is not run)."""

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from offramp_devstack import free_ports
from offramp_devstack.stack import Ports

REPO = Path(__file__).resolve().parents[2]
SKIP = "<!-- readme-test: skip"
# What the blocks write into the working directory, and what the test's copy must not share.
NOT_SHARED = {".offramp", ".git", "ledger.pem", "inclusion.json", "consistency.json", "export.json"}

pytestmark = pytest.mark.timeout(900)


@dataclass(frozen=True)
class Block:
    line: int
    text: str


def shell_blocks(readme: str) -> list[Block]:
    blocks: list[Block] = []
    lines = readme.splitlines()
    index = 0
    while index < len(lines):
        opening = re.match(r"^(\s*)```sh\s*$", lines[index])
        if not opening:
            index += 1
            continue
        indent = len(opening.group(1))
        skipped = index > 0 and lines[index - 1].strip().startswith(SKIP)
        body: list[str] = []
        index += 1
        while not re.match(r"^\s*```\s*$", lines[index]):
            body.append(lines[index][indent:])
            index += 1
        if not skipped:
            blocks.append(Block(index - len(body), "\n".join(body)))
        index += 1
    return blocks


def on_ports(text: str, ports: Ports) -> str:
    defaults = Ports()
    # Every port the README names a URL on: the five services, the console, Temporal's UI.
    for name in ("console", "intake", "casework", "notify", "audit", "outcomes", "temporal_ui"):
        text = text.replace(
            f"127.0.0.1:{getattr(defaults, name)}", f"127.0.0.1:{getattr(ports, name)}"
        )
    return text


def script(blocks: list[Block], ports: Ports) -> str:
    parts = ["set -eo pipefail"]
    for number, block in enumerate(blocks, start=1):
        parts.append(f'echo "=== README block {number} (README.md line {block.line}) ===" >&2')
        parts.append(on_ports(block.text, ports))
    parts.append('echo "=== every README block ran ===" >&2')
    return "\n".join(parts) + "\n"


def test_the_readme_blocks_are_found_and_the_skipped_ones_left_out() -> None:
    blocks = shell_blocks((REPO / "README.md").read_text())
    assert blocks[0].text.startswith("make up")
    assert not any("make test" in b.text for b in blocks)
    assert not any("OFFRAMP_FUZZ_EXAMPLES" in b.text for b in blocks)
    assert any("offramp-audit check export.json" in b.text for b in blocks)


def test_every_readme_shell_block_runs_in_order_on_a_fresh_stack(tmp_path: Path) -> None:
    # The repository as a clone has it, with its own .offramp/ (never the developer's).
    for entry in REPO.iterdir():
        if entry.name not in NOT_SHARED:
            (tmp_path / entry.name).symlink_to(entry)
    names = list(Ports.__dataclass_fields__)
    ports = Ports(**dict(zip(names, free_ports(len(names)), strict=True)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("OFFRAMP_")}
    env |= ports.variables()
    # As a person pastes them, not as a sub-make of `make test` (which would print directories).
    for inherited in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL"):
        env.pop(inherited, None)
    (tmp_path / "readme.sh").write_text(
        script(shell_blocks((REPO / "README.md").read_text()), ports)
    )
    try:
        run = subprocess.run(
            ["bash", "readme.sh"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=840,
            check=False,
        )
    finally:
        subprocess.run(
            [str(tmp_path / ".venv" / "bin" / "offramp-dev"), "down"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            timeout=120,
            check=False,
        )
    markers = [line for line in run.stderr.splitlines() if line.startswith("=== ")]
    assert run.returncode == 0, (
        f"{markers[-1] if markers else 'before the first block'} failed "
        f"(exit {run.returncode}):\n--- stdout ---\n{run.stdout[-4000:]}\n"
        f"--- stderr ---\n{run.stderr[-4000:]}"
    )
    assert markers[-1] == "=== every README block ran ==="

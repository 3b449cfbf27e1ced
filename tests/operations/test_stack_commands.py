"""The commands an operator runs beside a `make up` stack started on other ports: each finds
the stack with no extra variable, a foreseeable failure is one line and a non-zero exit, and
`make status` says what is down (and exits non-zero) when a service is killed."""

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from offramp_devstack import pidfiles
from tests.operations.stack import Stack, start_stack

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from start_stack(Path(tmp_path_factory.mktemp("operator")))


@pytest.fixture(scope="module")
def demo(stack: Stack) -> Stack:
    loaded = stack.run("offramp-dev", "demo", timeout=300)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    return stack


def test_status_names_each_service_url_and_readiness_with_its_dependencies(stack: Stack) -> None:
    shown = stack.run("offramp-dev", "status")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    for service in ("intake", "casework", "notify", "audit"):
        line = next(line for line in shown.stdout.splitlines() if line.strip().startswith(service))
        assert "ready" in line and stack.url(service) in line
    assert "postgres ok" in shown.stdout and "nats ok" in shown.stdout
    assert f"127.0.0.1:{stack.ports.postgres}" in shown.stdout


def test_the_demo_loads_referrals_reviews_cases_and_contacts_as_the_readme_people(
    demo: Stack,
) -> None:
    with httpx.Client(timeout=30) as http:
        cases = http.get(
            f"{demo.url('casework')}/cases",
            headers={"Authorization": f"Bearer {demo.token('case_manager')}"},
        ).json()
        waiting = http.get(
            f"{demo.url('intake')}/reviews",
            headers={"Authorization": f"Bearer {demo.token('prosecutor')}"},
        ).json()
        manager = {"Authorization": f"Bearer {demo.token('case_manager')}"}
        folders = [
            http.get(f"{demo.url('casework')}/cases/{c['case_id']}", headers=manager).json()
            for c in cases
        ]
    assert len(cases) == 4 and {c["door"] for c in cases} == {"arrest_diversion", "social_contact"}
    assert {c["case_manager"] for c in cases} == {"cm-1"}
    assert len(waiting) == 1, "one arrest diversion is left for the prosecutor to review"
    assert sum(1 for f in folders if f["contacts"] == 2 and f["phase"] == "enrolled") == 3, folders


def test_ledger_commands_find_the_stack_without_extra_variables(demo: Stack) -> None:
    verified = demo.run("offramp-audit", "verify", "--no-progress")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "intact" in verified.stdout

    # The stack signs a checkpoint every few entries or seconds: the export finds one soon.
    deadline = time.monotonic() + 60
    while True:
        exported = demo.run(
            "offramp-audit", "export", "--first", "1", "--last", "3", "--out", "export.json"
        )
        if exported.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert exported.returncode == 0, exported.stdout + exported.stderr
    checked = demo.run("offramp-audit", "check", "export.json")
    assert checked.returncode == 0, checked.stdout

    with httpx.Client(timeout=30) as http:
        [case, *_] = http.get(
            f"{demo.url('casework')}/cases",
            headers={"Authorization": f"Bearer {demo.token('case_manager')}"},
        ).json()
    history = demo.run("offramp-audit", "history", "--referral", case["referral_id"])
    assert history.returncode == 0, history.stdout + history.stderr
    assert "ReferralReceived" in history.stdout
    disclosures = demo.run("offramp-casework", "disclosures", case["case_id"])
    assert disclosures.returncode == 0, disclosures.stdout + disclosures.stderr
    assert "0 disclosure(s)." in disclosures.stdout
    for service in ("intake", "casework", "notify", "audit"):
        letters = demo.run(f"offramp-{service}", "dead-letters", "list")
        assert letters.returncode == 0, letters.stderr
        assert "0 dead letter(s) waiting" in letters.stderr


def test_a_foreseeable_failure_is_one_line_and_a_non_zero_exit(stack: Stack) -> None:
    unknown = stack.run("offramp-casework", "disclosures", str(uuid4()))
    assert unknown.returncode == 1 and "there is no case" in unknown.stdout

    nowhere = stack.run(
        "offramp-casework",
        "disclosures",
        str(uuid4()),
        OFFRAMP_DATABASE_URL="postgresql://postgres@127.0.0.1:9/offramp",
    )
    assert nowhere.returncode == 3, nowhere.stdout + nowhere.stderr
    assert "cannot reach a server" in nowhere.stderr and "make status" in nowhere.stderr
    assert "Traceback" not in nowhere.stderr

    no_key = stack.run(
        "offramp-audit",
        "verify",
        OFFRAMP_LEDGER_SIGNING_KEY_PATH=str(stack.root / "missing.pem"),
    )
    assert no_key.returncode != 0 and "no checkpoint signing key" in no_key.stderr
    assert "Traceback" not in no_key.stderr

    bad_file = stack.run("offramp-audit", "check", "nothing-here.json")
    assert bad_file.returncode == 2 and "No such file" in bad_file.stderr
    assert "Traceback" not in bad_file.stderr


def test_status_exits_non_zero_and_names_a_killed_service(stack: Stack) -> None:
    home = stack.root / ".offramp"
    pid = pidfiles.read_pids(home / "run" / "services")["notify"]
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while pidfiles.is_running(pid) and time.monotonic() < deadline:
        time.sleep(0.1)

    shown = stack.run("offramp-dev", "status")
    assert shown.returncode == 1, shown.stdout
    [line] = [line for line in shown.stdout.splitlines() if line.strip().startswith("notify")]
    assert "down" in line
    assert "not ready: notify" in shown.stdout

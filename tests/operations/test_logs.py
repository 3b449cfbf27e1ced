"""What a service's log says, read from the log of the real process as an operator has it:
one access line per request (never the token or the body), a line for each refusal, for a dead
letter, for a checkpoint signed and for a lease taken."""

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from nats.aio.client import Client as NATS

from offramp_devstack import ServiceProcess, free_port
from offramp_devstack.waiting import wait_for
from servicekit.auth import LocalIssuer
from tests.referrals import fresh_key, referral_body

pytestmark = pytest.mark.timeout(300)

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def lines(log_path: Path) -> list[dict[str, Any]]:
    found = []
    for line in log_path.read_text(errors="replace").splitlines():
        try:
            found.append(json.loads(line))
        except ValueError:
            continue
    return found


def process(
    name: str, servers: Any, isolation: Any, tmp_path: Path, **extra: str
) -> ServiceProcess:
    issuer_settings = {**isolation.settings(servers), "log_json": True}
    env = {f"OFFRAMP_{k.upper()}": str(v) for k, v in issuer_settings.items()} | extra
    return ServiceProcess(name, port=free_port(), env=env, log_path=tmp_path / f"{name}.log")


async def test_each_request_has_one_access_line_and_a_refusal_says_which(
    servers: Any, isolation: Any, tmp_path: Path, nats_client: NATS
) -> None:
    issuer = LocalIssuer(isolation.key_path, issuer="offramp-local", audience="offramp")
    officer = issuer.issue(
        subject="officer-17", roles=["officer"], agency="pontiac-pd", jurisdiction="pontiac"
    )
    intake = process("intake", servers, isolation, tmp_path)
    async with intake:
        async with httpx.AsyncClient(base_url=intake.url, timeout=30) as http:
            auth = {"Authorization": f"Bearer {officer}"}
            made = await http.post(
                "/referrals",
                json=referral_body(),
                headers={**auth, **fresh_key(), "traceparent": TRACEPARENT},
            )
            assert made.status_code == 201, made.text
            assert (await http.get("/reviews", headers=auth)).status_code == 403
            assert (await http.post("/referrals", json={}, headers=auth)).status_code == 422
            assert (await http.get("/referrals")).status_code == 401
        await nats_client.jetstream().publish(
            f"{isolation.subject_root}.pontiac.casework.CaseClosed",
            b"not an event",
            stream=isolation.stream_name,
        )

        async def parked() -> bool:
            return any(
                e["event"] == "message parked as a dead letter" for e in lines(intake.log_path)
            )

        await wait_for(parked, timeout=30, what="the dead letter's line")

    logged = lines(intake.log_path)
    text = intake.log_path.read_text()
    assert officer not in text and "Bearer" not in text, "a token reached the log"
    assert "Rivera" not in text and "Saginaw" not in text, "a body reached the log"

    access = [e for e in logged if e["event"] in ("request", "request refused")]
    [referral] = [e for e in access if e["route"] == "/referrals" and e["status"] == 201]
    assert referral["method"] == "POST" and referral["level"] == "info"
    assert referral["subject"] == "officer-17" and referral["roles"] == ["officer"]
    assert referral["agency"] == "pontiac-pd"
    assert referral["trace_id"] == TRACE_ID
    assert referral["correlation_id"] and referral["duration_ms"] >= 0

    [forbidden] = [e for e in access if e["route"] == "/reviews"]
    assert forbidden["status"] == 403 and forbidden["level"] == "warning"
    assert forbidden["problem"] == "forbidden" and forbidden["subject"] == "officer-17"
    [invalid] = [e for e in access if e["status"] == 422]
    assert invalid["problem"] == "invalid-request"
    [anonymous] = [e for e in access if e["status"] == 401]
    assert anonymous["problem"] == "unauthenticated" and "subject" not in anonymous
    assert any(e["event"] == "lease acquired" for e in logged)


async def test_audit_says_when_it_takes_the_writer_lease_and_signs_a_checkpoint(
    servers: Any, isolation: Any, tmp_path: Path
) -> None:
    issuer = LocalIssuer(isolation.key_path, issuer="offramp-local", audience="offramp")
    officer = issuer.issue(
        subject="officer-17", roles=["officer"], agency="pontiac-pd", jurisdiction="pontiac"
    )
    audit = process(
        "audit",
        servers,
        isolation,
        tmp_path,
        OFFRAMP_CHECKPOINT_EVERY_ENTRIES="1",
        OFFRAMP_CHECKPOINT_EVERY_SECONDS="1",
    )
    async with audit:
        async with httpx.AsyncClient(base_url=audit.url, timeout=30) as http:
            # Refused, so recorded: the ledger gets an entry, and a checkpoint over it.
            refused = await http.get(
                "/ledger/verify", headers={"Authorization": f"Bearer {officer}"}
            )
            assert refused.status_code == 403

        async def signed() -> bool:
            return any(e["event"] == "checkpoint signed" for e in lines(audit.log_path))

        await wait_for(signed, timeout=60, what="the checkpoint's line")
    logged = lines(audit.log_path)
    assert any(e["event"] == "lease acquired" and "ledger" in e.get("lease", "") for e in logged), [
        e["event"] for e in logged
    ]
    [first, *_] = [e for e in logged if e["event"] == "checkpoint signed"]
    assert first["checkpoint"] == 1 and first["tree_size"] >= 1

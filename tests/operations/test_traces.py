"""One referral is one trace: the four services run as their own processes, export over OTLP
(configured only by the standard OTEL_* variables) to a receiver in this test, and the spans
of the officer's request, the consumers, the case's workflow and activities, notify's e-mail
delivery and the ledger's appends share the caller's trace id, each with a parent in that
trace."""

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from offramp_devstack import ServiceProcess, free_port
from offramp_devstack.mailsink import MailSink
from offramp_devstack.waiting import wait_for
from servicekit.auth import LocalIssuer
from tests.referrals import fresh_key, referral_body

pytestmark = pytest.mark.timeout(300)

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{TRACE_ID}-b7ad6b7169203331-01"
SERVICES = ("intake", "casework", "notify", "audit")


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_id: str


class Receiver:
    """An OTLP/HTTP traces endpoint that keeps what it is sent."""

    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = ExportTraceServiceRequest.FromString(body)
                receiver.keep(request)
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def keep(self, request: ExportTraceServiceRequest) -> None:
        for resource_spans in request.resource_spans:
            service = next(
                a.value.string_value
                for a in resource_spans.resource.attributes
                if a.key == "service.name"
            )
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    with self.lock:
                        self.spans.append(
                            ReceivedSpan(
                                service,
                                span.name,
                                span.trace_id.hex(),
                                span.span_id.hex(),
                                span.parent_span_id.hex(),
                            )
                        )

    def of_trace(self, trace_id: str) -> list[ReceivedSpan]:
        with self.lock:
            return [s for s in self.spans if s.trace_id == trace_id]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    thread = threading.Thread(target=found.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        found.server.shutdown()


async def test_one_referral_is_one_trace_across_the_four_service_processes(
    servers: Any, isolation: Any, tmp_path: Path, receiver: Receiver, mail_sink: MailSink
) -> None:
    issuer = LocalIssuer(isolation.key_path, issuer="offramp-local", audience="offramp")
    env = {f"OFFRAMP_{k.upper()}": str(v) for k, v in isolation.settings(servers).items()}
    env |= {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "OFFRAMP_SMTP_PORT": str(mail_sink.port),
    }
    processes = {
        name: ServiceProcess(name, port=free_port(), env=env, log_path=tmp_path / f"{name}.log")
        for name in SERVICES
    }
    try:
        await asyncio.gather(*(p.start() for p in processes.values()))
        supervisor = issuer.issue(
            subject="sup-1", roles=["supervisor"], agency="pontiac-case-management",
            jurisdiction="pontiac",
        )  # fmt: skip
        officer = issuer.issue(
            subject="officer-17", roles=["officer"], agency="pontiac-pd", jurisdiction="pontiac"
        )
        async with httpx.AsyncClient(timeout=30) as http:
            rostered = await http.put(
                f"{processes['casework'].url}/case-managers/cm-1",
                headers={"Authorization": f"Bearer {supervisor}"},
            )
            assert rostered.status_code in (200, 201, 204), rostered.text
            # The officer's address: the CaseOpened notification is then also e-mailed.
            registered = await http.put(
                f"{processes['notify'].url}/me/email",
                json={"email": "officer-17@traces.example"},
                headers={"Authorization": f"Bearer {officer}"},
            )
            assert registered.status_code == 200, registered.text
            made = await http.post(
                f"{processes['intake'].url}/referrals",
                json=referral_body("social_contact"),
                headers={
                    "Authorization": f"Bearer {officer}",
                    "traceparent": TRACEPARENT,
                    **fresh_key(),
                },
            )
        assert made.status_code == 201, made.text

        async def whole_path_seen() -> bool:
            spans = receiver.of_trace(TRACE_ID)
            names = {(s.service, s.name) for s in spans}
            return (
                ("offramp-intake", "POST /referrals") in names
                and ("offramp-casework", "consume ReferralAdmitted") in names
                and any(s == "offramp-casework" and n.startswith("RunActivity") for s, n in names)
                and any(s == "offramp-notify" and n.startswith("consume ") for s, n in names)
                and ("offramp-notify", "deliver email") in names
                and ("offramp-audit", "ledger append") in names
            )

        await wait_for(whole_path_seen, timeout=90, what="the referral's spans from every service")
    finally:
        await asyncio.gather(*(p.stop() for p in processes.values()))

    spans = receiver.of_trace(TRACE_ID)
    ids = {s.span_id for s in spans}
    [request] = [s for s in spans if s.name == "POST /referrals"]
    assert request.parent_id == "b7ad6b7169203331", "the request continues the caller's trace"
    for span in spans:
        if span is not request:
            assert span.parent_id in ids, f"{span} has no parent in the trace"
    [admitted] = [s for s in spans if s.name == "consume ReferralAdmitted"]
    by_id = {s.span_id: s for s in spans}
    ancestors: list[str] = []
    parent = admitted.parent_id
    while parent in by_id:
        ancestors.append(by_id[parent].name)
        parent = by_id[parent].parent_id
    assert request.name in ancestors, f"the consumer descends from the request: {ancestors}"
    # The e-mail is sent later, by the delivery loop, yet continues the consumer that owed it.
    [delivery] = [s for s in spans if s.name == "deliver email"]
    assert by_id[delivery.parent_id].service == "offramp-notify"
    assert by_id[delivery.parent_id].name == "consume CaseOpened"
    assert {s.service for s in spans} == {f"offramp-{name}" for name in SERVICES}

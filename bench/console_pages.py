"""The console's caseload and review queue with many open items: how long the console takes to
render each page once the service has answered (issue 12's bar: 500 items under 300 ms).

The services are stood in for by an in-process app answering the caseload and the queue with
`items` rows as casework and intake shape them, so the figure is the console's own work:
the call, ordering by what is due, and the template. The services' own reads have their
benchmarks (intake_http, end_to_end)."""

import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from bench.harness import loadavg, report
from console.bootstrap import create_app
from console.settings import ConsoleSettings

SIZES = {"smoke": (50, 5), "quick": (500, 30), "full": (500, 200)}
RULES = [
    "drug_quantity",
    "prior_violent_felony",
    "exploits_minors",
    "under_18",
    "prosecutor_approval",
]


def stand_in(items: int) -> FastAPI:
    now = datetime.now(UTC)
    cases = [
        {
            "case_id": str(uuid.uuid4()),
            "referral_id": str(uuid.uuid4()),
            "door": "arrest_diversion",
            "status": "engaged",
            "phase": "intake" if n % 3 else "enrolled",
            "case_manager": f"cm-{n % 7}",
            "opened_at": (now - timedelta(days=n % 40)).isoformat(),
            "intake_deadline": (now + timedelta(days=n % 14)).isoformat(),
            "last_contact_at": (now - timedelta(days=n % 60)).isoformat(),
        }
        for n in range(items)
    ]
    reviews = [
        {
            "referral_id": str(uuid.uuid4()),
            "referring_agency": "pontiac-pd",
            "door": "arrest_diversion",
            "person": {
                "given_name": "Sam",
                "family_name": f"Rivera {n}",
                "date_of_birth": "1990-04-02",
            },
            "offence": {
                "category": "drug_possession",
                "place": "Saginaw St",
                "drug_quantity_grams": "1.2",
            },
            "rules": [
                {"rule": r, "outcome": "passed", "reason": "within the site's rules"} for r in RULES
            ],
            "policy_version": "2026.1",
            "received_at": now.isoformat(),
        }
        for n in range(items)
    ]
    app = FastAPI()
    app.get("/cases")(lambda: cases)
    app.get("/reviews")(lambda: reviews)
    app.get("/inbox")(lambda: [])
    return app


async def measure(items: int, rounds: int, key: Path) -> list[dict[str, Any]]:
    settings = ConsoleSettings(
        auth_local_key_path=key,
        intake_url="http://services",
        casework_url="http://services",
        notify_url="http://services",
        audit_url="http://services",
    )
    app = create_app(settings)
    container = app.state.container
    await container.services.http.aclose()
    container.services.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=stand_in(items)))
    for api in container.services.all():
        api._http = container.services.http
    rows = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8000"
    ) as browser:
        for page, person in (
            ("/caseload", "cm-1@pontiac-case-management"),
            ("/reviews", "ada-1@oakland-prosecutor"),
        ):
            browser.cookies.clear()
            await browser.get("/sign-in")
            await browser.post(
                "/sign-in", data={"person": person, "csrf_token": browser.cookies["offramp_csrf"]}
            )
            timings = []
            for _ in range(rounds):
                started = time.perf_counter()
                answer = await browser.get(page)
                timings.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200, answer.text[:300]
            timings.sort()
            rows.append(
                {
                    "page": page,
                    "items": items,
                    "rounds": rounds,
                    "median_ms": round(statistics.median(timings), 1),
                    "p95_ms": round(timings[max(0, int(len(timings) * 0.95) - 1)], 1),
                    "bytes": len(answer.content),
                }
            )
    await container.services.http.aclose()
    return rows


def main(size: str) -> None:
    import tempfile

    items, rounds = SIZES[size]
    before = loadavg()
    with tempfile.TemporaryDirectory() as home:
        rows = asyncio.run(measure(items, rounds, Path(home) / "issuer.pem"))
    report(
        "console_pages",
        size,
        rows,
        load_before=before,
        notes="Console render time with the services answering in-process (target: < 300 ms at 500 items).",
    )

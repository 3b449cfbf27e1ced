"""The operator's dead letters and the analyst's reports, in a real browser against the real
services, at phone and desktop size: letters parked in a service are listed, a replay that
fails again reads as words, a discard and a good replay clear them; the equity and re-arrest
reports come from outcomes as tables and charts, a suppressed cell shown as such, never as 0.

One system for the module: the operator's letters are parked per pass, the analyst's report
counts the one referral made at the start."""

import json
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import httpx
import pytest
from playwright.async_api import Browser, ViewportSize, expect

from intake.bootstrap import CONSUMER_VERSION
from offramp_contracts.events.casework import CaseClosed
from servicekit.events import new_event, system_actor
from tests.conftest import wait_for
from tests.console.conftest import DESKTOP, PHONE, ConsoleSystem, check_page, new_context, sign_in
from tests.referrals import fresh_key, referral_body

pytestmark = [pytest.mark.servers, pytest.mark.timeout(300)]

SIZES = pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone-360x740", "desktop"])
CONSUMER = f"intake-places-{CONSUMER_VERSION}"
ANALYST = "analyst-1@county-analysis"
OPERATOR = "it-1@county-it"


async def park(
    cs: ConsoleSystem, body: bytes, event_id: Any = None, headers: dict[str, str] | None = None
) -> int:
    """A message parked by intake's consumer of CaseClosed, as after it failed five times."""
    runtime = cs.system.services["intake"].runtime
    settings = runtime.settings
    letter_id: int = await runtime.pool.fetchval(
        """INSERT INTO dead_letters (consumer, subject, event_id, body, error, deliveries,
                                    stream, stream_seq, headers)
           VALUES ($1, $2, $3, $4, $5, 5, $6, $7, $8::jsonb) RETURNING id""",
        CONSUMER,
        f"{settings.subject_root}.pontiac.casework.CaseClosed",
        event_id,
        body,
        "RuntimeError('the database said no')\nTraceback line two",
        settings.stream_name,
        int(uuid4().int % 1_000_000_000),
        json.dumps(headers) if headers else None,
    )
    return letter_id


async def park_real_and_malformed(cs: ConsoleSystem) -> tuple[int, int]:
    event = new_event(
        CaseClosed(case_id=uuid4(), referral_id=uuid4(), reason="graduated"),
        stream_id=f"case-{uuid4()}",
        stream_version=9,
        jurisdiction="pontiac",
        actor=system_actor("casework"),
        correlation_id=uuid4(),
        causation_id=None,
    )
    # Signed by casework, as it published it: a replay believes no more than a first delivery.
    signature = cs.system.services["casework"].runtime.signer.headers(event)
    real = await park(cs, event.wire_json(), event.event_id, signature)
    return real, await park(cs, b"not an event")


async def parked_ids(cs: ConsoleSystem) -> set[int]:
    token = cs.system.token(sub="it-1", role="operator", agency="county-it")
    async with cs.system.client("intake", token) as client:
        answer = await client.get("/dead-letters")
    assert answer.status_code == 200, answer.text
    return {letter["id"] for letter in answer.json()}


@SIZES
async def test_the_operator_replays_and_discards_dead_letters(
    console_system: ConsoleSystem, browser: Browser, viewport: ViewportSize
) -> None:
    cs = console_system
    real, malformed = await park_real_and_malformed(cs)
    context = await new_context(browser, viewport)
    page = await context.new_page()
    await sign_in(page, cs.url, OPERATOR)
    await page.get_by_role("link", name="Dead letters of every service").click()
    await expect(page.get_by_role("heading", name=f"intake · {CONSUMER}").first).to_be_visible()
    letter = page.locator("li.dead-letter").filter(
        has=page.get_by_role("button", name=f"Replay dead letter {malformed} of intake")
    )
    await expect(letter).to_contain_text("RuntimeError('the database said no') Traceback line two")
    await expect(letter).to_contain_text("Parked ")
    await check_page(page, "operator-dead-letters")

    await page.get_by_role("button", name=f"Replay dead letter {malformed} of intake").click()
    alert = page.get_by_text("The replay failed again")
    await expect(alert).to_be_visible()
    assert "replay-failed" not in await page.content(), "the problem's raw JSON is not shown"
    assert malformed in await parked_ids(cs), "a replay that failed leaves the letter parked"

    await page.goto(cs.url + "/operations/dead-letters")
    await page.get_by_role("button", name=f"Discard dead letter {malformed} of intake").click()
    await expect(page.get_by_role("status")).to_have_text("The dead letter was discarded.")
    await page.get_by_role("button", name=f"Replay dead letter {real} of intake").click()
    await expect(page.get_by_role("status")).to_have_text("The dead letter was replayed.")
    assert not {real, malformed} & await parked_ids(cs)
    await expect(
        page.get_by_role("button", name=f"Replay dead letter {real} of intake")
    ).to_have_count(0)
    await context.close()


async def test_a_dead_letter_form_without_the_csrf_token_is_refused(
    console_system: ConsoleSystem,
) -> None:
    cs = console_system
    letter = await park(cs, b"not an event")
    async with httpx.AsyncClient(base_url=cs.url) as http:
        csrf = (await http.get("/sign-in")).cookies["offramp_csrf"]
        signed = await http.post("/sign-in", data={"person": OPERATOR, "csrf_token": csrf})
        assert signed.status_code == 303
        refused = await http.post(f"/operations/dead-letters/intake/{letter}/discard", data={})
    assert refused.status_code == 403
    assert letter in await parked_ids(cs)


@pytest.fixture(scope="module")
async def one_referral(console_system: ConsoleSystem) -> AsyncIterator[dict[str, Any]]:
    """One referral made, and outcomes' equity report once it counts it (a small cell)."""
    cs = console_system
    officer = cs.system.token(sub="officer-17", role="officer", agency="pontiac-pd")
    async with cs.system.client("intake", officer) as intake:
        made = await intake.post("/referrals", json=referral_body(), headers=fresh_key())
    assert made.status_code in (200, 201, 202), made.text
    analyst = cs.system.token(sub="analyst-1", role="analyst", agency="county-analysis")
    reports: dict[str, Any] = {}

    async def counted() -> bool:
        async with cs.system.client("outcomes", analyst) as outcomes:
            for name in ("equity", "rearrest"):
                answer = await outcomes.get(f"/reports/{name}")
                assert answer.status_code == 200, answer.text
                reports[name] = answer.json()
        return bool(reports["equity"]["suppressed"])

    await wait_for(counted, timeout=60, what="outcomes to count the referral")
    yield reports


def suppressed_cells(report: dict[str, Any]) -> int:
    return sum(
        1
        for table in report["tables"]
        for row in table["rows"]
        for cell in row["cells"].values()
        if cell.get("suppressed")
    )


async def suppressed_now(cs: ConsoleSystem, token: str) -> int:
    async with cs.system.client("outcomes", token) as outcomes:
        reports = [(await outcomes.get(f"/reports/{n}")).json() for n in ("equity", "rearrest")]
    return sum(suppressed_cells(report) for report in reports)


@SIZES
async def test_the_analyst_reads_the_equity_and_rearrest_reports(
    console_system: ConsoleSystem,
    browser: Browser,
    viewport: ViewportSize,
    one_referral: dict[str, Any],
) -> None:
    context = await new_context(browser, viewport)
    page = await context.new_page()
    await sign_in(page, console_system.url, ANALYST)
    assert page.url == console_system.url + "/reports"
    for heading in ("Equity", "Re-arrest"):
        await expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    first = one_referral["equity"]["tables"][0]
    await expect(page.get_by_role("heading", name=first["title"]).first).to_be_visible()
    cells = page.locator("table.report td.suppressed")
    analyst = console_system.system.token(sub="analyst-1", role="analyst", agency="county-analysis")

    async def shows_what_outcomes_suppressed() -> bool:
        # The referral's later events (its case opening) may still be on their way to outcomes.
        before = await suppressed_now(console_system, analyst)
        await page.reload()
        shown = await cells.count()
        return before == shown == await suppressed_now(console_system, analyst) > 0

    await wait_for(shows_what_outcomes_suppressed, timeout=60, what="the page to show the cells")
    expected = await cells.count()
    assert set(await cells.all_inner_texts()) == {"suppressed"}
    # Each table is drawn by the vendored Chart.js, served by the console itself.
    script = await page.request.get(console_system.url + "/static/chart.js-4.6.1.umd.min.js")
    assert script.status == 200
    drawn = await page.evaluate(
        "() => [...document.querySelectorAll('canvas[data-chart]')]"
        ".map(c => Chart.getChart(c) ? Chart.getChart(c).data.datasets.flatMap(d => d.data) : null)"
    )
    assert drawn and all(d is not None for d in drawn)
    nulls = sum(1 for data in drawn for value in data if value is None)
    assert nulls >= expected, "a suppressed cell is a gap in its chart, never a zero"
    await check_page(page, "analyst-reports")
    await context.close()

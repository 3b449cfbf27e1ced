"""The console as its people use it, in a real browser against the real services: an officer
refers from a phone and loses the signal mid-submit, the prosecutor approves, the case manager
records the intake assessment and a release, the officer sees only the coarse status, the
auditor verifies the ledger and opens the case as it stood earlier.

The tests of this module run in order over one system: each goes on from what the one before
left (the referral becomes a case), as the people of the programme do."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
import pytest
from playwright.async_api import Browser, Route, ViewportSize, expect

from offramp_contracts.identifiers import case_id_for_referral
from tests.conftest import wait_for
from tests.console.conftest import (
    DESKTOP,
    PHONE,
    ConsoleSystem,
    check_page,
    new_context,
    sign_in,
)

pytestmark = [pytest.mark.servers, pytest.mark.timeout(300)]

CARE_MARKER = "CARE-MARKER-methadone-bipolar-7731"
README_PEOPLE = [
    "officer-17@pontiac-pd",
    "ada-1@oakland-prosecutor",
    "cm-1@pontiac-case-management",
    "sup-1@pontiac-case-management",
    "pd-1@oakland-public-defender",
    "auditor-1@county-audit",
    "it-1@county-it",
]


@dataclass
class Run:
    """One pass of the journey: every page clicked through at this size, by its own officer so
    that the two passes' referrals stay apart."""

    viewport: ViewportSize
    officer: str
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def officer_key(self) -> str:
        return f"{self.officer}@pontiac-pd"


@pytest.fixture(
    scope="module",
    params=[Run(PHONE, "officer-17"), Run(DESKTOP, "officer-23")],
    ids=["phone-360x740", "desktop-1280x800"],
)
def run(request: pytest.FixtureRequest) -> Run:
    chosen: Run = request.param
    return chosen


def officer_token(cs: ConsoleSystem, run: Run) -> str:
    return cs.system.token(sub=run.officer, role="officer", agency="pontiac-pd")


async def test_a_signed_out_browser_is_sent_to_sign_in_which_lists_the_directory(
    console_system: ConsoleSystem, browser: Browser, run: Run
) -> None:
    context = await new_context(browser, run.viewport)
    page = await context.new_page()
    await page.goto(console_system.url + "/caseload")
    assert page.url.startswith(console_system.url + "/sign-in?next=%2Fcaseload")
    for person in README_PEOPLE:
        await expect(page.get_by_role("button", name=person)).to_be_visible()
    await check_page(page, "sign-in")
    await context.close()


async def test_a_form_post_without_its_csrf_token_is_refused(
    console_system: ConsoleSystem, browser: Browser, run: Run
) -> None:
    context = await new_context(browser, run.viewport)
    page = await context.new_page()
    await sign_in(page, console_system.url, "sup-1@pontiac-case-management")
    await expect(page.get_by_role("heading", name="Case managers")).to_be_visible()
    refused = await page.request.post(
        console_system.url + "/roster", form={"subject": "cm-forged"}, max_redirects=0
    )
    assert refused.status == 403
    assert "did not come from a page of this console" in await refused.text()
    # The supervisor's own form carries the token and is accepted: cm-1 joins the roster.
    await page.get_by_label("Their sign-in name").fill("cm-1")
    await page.get_by_role("button", name="Add to roster").click()
    await expect(page.get_by_role("cell", name="cm-1", exact=True)).to_be_visible()
    assert not await page.get_by_role("cell", name="cm-forged").count()
    await page.get_by_label("Their sign-in name").fill("cm-2")
    await page.get_by_role("button", name="Add to roster").click()
    await page.get_by_role("button", name="Retire cm-2").click()
    row = page.get_by_role("row", name="cm-2")
    await expect(row.get_by_role("cell", name="retired")).to_be_visible()
    await check_page(page, "supervisor-roster")
    await context.close()


async def test_an_officer_refers_and_an_answer_lost_with_the_signal_makes_one_referral(
    console_system: ConsoleSystem, browser: Browser, run: Run
) -> None:
    context = await new_context(browser, run.viewport)
    page = await context.new_page()
    await sign_in(page, console_system.url, run.officer_key)
    await expect(page.get_by_role("heading", name="Refer a person")).to_be_visible()
    # The console's service worker keeps the form on the device (tests/console/test_console_offline.py).
    await expect(page.get_by_text("kept on this device and sent when it returns")).to_be_visible()
    # Only Pontiac's two doors are offered.
    assert await page.get_by_role("radio", name="Community referral").count() == 0
    await check_page(page, "officer-refer")

    await page.get_by_label("Given name").fill("Sam")
    await page.get_by_label("Family name").fill("Rivera")
    await page.get_by_label("Date of birth").fill("1990-04-02")
    await page.get_by_label("What happened").select_option("drug_possession")
    await page.get_by_label("When").fill("2026-11-24T21:30")
    await page.get_by_label("Where").fill("Saginaw St & Pike St")
    await page.get_by_label("Drug quantity seized, in grams").fill("1.2")
    for question in await page.locator("fieldset.question:not([hidden])").all():
        no = question.get_by_role("radio", name="No", exact=True)
        if await no.count():
            await no.check()

    # The first attempt reaches intake, but its answer is lost with the signal. The worker's
    # requests are the context's (a page's routes never see them).
    lost: list[str] = []
    keys: list[str] = []

    async def lose_the_answer(route: Route) -> None:
        keys.append(route.request.headers.get("idempotency-key", ""))
        if not lost:
            lost.append(keys[-1])
            await route.fetch()
            await context.set_offline(True)
            await route.abort("internetdisconnected")
        else:
            await route.continue_()

    await context.route("**/officer/referrals", lose_the_answer)
    await page.get_by_role("button", name="Send referral").click()
    await expect(page.get_by_text("saved on this device")).to_be_visible()
    assert await page.evaluate("window.offrampPendingReferrals()") == 1
    assert lost and lost[0]

    await context.set_offline(False)  # the worker sends it again when the signal returns
    await page.wait_for_url("**/officer/referrals?made=*")
    await expect(page.get_by_text("Waiting for the prosecutor's review")).to_be_visible()
    async with console_system.system.client("intake", officer_token(console_system, run)) as intake:
        mine = (await intake.get("/referrals")).json()
    assert len(mine) == 1, mine
    assert len(keys) == 2 and keys[0] == keys[1], keys  # the retry sent the same key
    run.state["referral_id"] = UUID(mine[0]["referral_id"])
    assert await page.evaluate("window.offrampPendingReferrals()") == 0
    await check_page(page, "officer-referrals")
    await context.close()


async def test_the_prosecutor_sees_each_rule_and_approves(
    console_system: ConsoleSystem, browser: Browser, run: Run
) -> None:
    context = await new_context(browser, run.viewport)
    page = await context.new_page()
    await sign_in(page, console_system.url, "ada-1@oakland-prosecutor")
    card = page.locator(f"#review-{run.state['referral_id']}")
    await expect(card.get_by_role("cell", name="Drug quantity")).to_be_visible()
    await expect(card.get_by_role("cell", name="Prosecutor approval")).to_be_visible()
    await check_page(page, "prosecutor-reviews")
    await card.get_by_label("Reason for your decision").fill("first contact, small quantity")
    await card.get_by_role("button", name="Approve").click()
    await expect(card.get_by_text("admitted")).to_be_visible()
    await context.close()


async def test_the_case_manager_records_the_assessment_and_a_release(
    console_system: ConsoleSystem, browser: Browser, run: Run
) -> None:
    case_id = case_id_for_referral(run.state["referral_id"])
    run.state["case_id"] = case_id
    cm = console_system.system.token(
        sub="cm-1", role="case_manager", agency="pontiac-case-management"
    )
    async with console_system.system.client("casework", cm) as casework:

        async def assigned() -> bool:
            answer = await casework.get(f"/cases/{case_id}")
            return answer.status_code == 200 and answer.json()["case_manager"] == "cm-1"

        await wait_for(assigned, timeout=60, what="the case opened and assigned to cm-1")
    run.state["before_assessment"] = datetime.now(UTC)

    context = await new_context(browser, run.viewport)
    page = await context.new_page()
    await sign_in(page, console_system.url, "cm-1@pontiac-case-management")
    await expect(page.get_by_role("heading", name="Caseload")).to_be_visible()
    await check_page(page, "case-manager-caseload")
    await page.get_by_role("link", name=str(case_id)[:8]).click()
    await page.get_by_role("checkbox", name="Housing").check()
    await page.get_by_role("checkbox", name="Mental health").check()
    await page.get_by_label("Notes (stay with your agency)").fill(CARE_MARKER)
    await page.get_by_role("button", name="Complete intake assessment").click()
    await expect(page.get_by_text("Saved: assessment.")).to_be_visible()
    await page.get_by_label("Notes", exact=True).fill(CARE_MARKER)
    await page.get_by_role("button", name="Record contact now").click()
    await expect(page.get_by_text("Saved: contact.")).to_be_visible()
    # Goals' wording and a provider are care's too: they must reach no officer's page either.
    await page.get_by_label("A new goal, in the participant's words").fill(CARE_MARKER)
    await page.get_by_role("button", name="Add goal").click()
    await expect(page.locator(".goal .wording")).to_have_text(CARE_MARKER)
    await page.get_by_label("Provider").fill(CARE_MARKER)
    await page.get_by_role("button", name="Make service referral").click()
    await expect(page.locator(".service .provider")).to_contain_text(CARE_MARKER)

    # A release that names no information is refused, and casework's reason is shown in words.
    release = page.locator("form.release")
    await release.get_by_label("Recipient agency").fill("oakland-public-defender")
    await release.get_by_label("Purpose of the disclosure").fill("to represent the participant")
    await release.get_by_role("button", name="Record release").click()
    refusal = page.locator("#release-error")
    await expect(refusal).to_contain_text("information")
    assert "{" not in await refusal.inner_text()
    release = page.locator("form.release")
    await release.get_by_role("checkbox", name="Program status").check()
    await release.get_by_label("Recipient agency").fill("oakland-public-defender")
    await release.get_by_label("Purpose of the disclosure").fill("to represent the participant")
    await release.get_by_role("button", name="Record release").click()
    await expect(page.get_by_text("Saved: release.")).to_be_visible()
    await expect(page.get_by_text("In force", exact=False).first).to_be_visible()
    await check_page(page, "case-manager-case")
    await page.get_by_label("Details (stay with your agency)").fill(CARE_MARKER)
    await page.get_by_role("button", name="Report non-compliance").click()
    await expect(page.get_by_text("Saved: non-compliance.")).to_be_visible()
    await context.close()


async def test_the_prosecutor_is_alerted_of_non_compliance_and_records_a_decision(
    console_system: ConsoleSystem, browser: Browser, run: Run
) -> None:
    prosecutor = console_system.system.token(
        sub="ada-1", role="prosecutor", agency="oakland-prosecutor"
    )
    async with console_system.system.client("notify", prosecutor) as notify:

        async def alerted() -> bool:
            messages = (await notify.get("/inbox")).json()
            return any(m["trigger"] == "NonComplianceReported" for m in messages)

        await wait_for(alerted, timeout=60, what="the prosecutor alerted of non-compliance")
    context = await new_context(browser, run.viewport)
    page = await context.new_page()
    await sign_in(page, console_system.url, "ada-1@oakland-prosecutor")
    await page.goto(console_system.url + "/alerts")
    alert = page.locator(
        f"li.card[data-case='{run.state['case_id']}']",
        has=page.get_by_role("button", name="Record decision"),
    )
    await alert.get_by_role("radio", name="Continue in the programme").check()
    await alert.get_by_label("Reason").fill("engaged again since")
    await alert.get_by_role("button", name="Record decision").click()
    await expect(alert.get_by_text("Your decision is recorded.")).to_be_visible()
    await check_page(page, "prosecutor-alerts")
    await context.close()


async def test_the_public_defender_reads_the_status_with_the_redisclosure_notice(
    console_system: ConsoleSystem, browser: Browser, run: Run
) -> None:
    context = await new_context(browser, run.viewport)
    page = await context.new_page()
    await sign_in(page, console_system.url, "pd-1@oakland-public-defender")
    await page.get_by_label("Case number").fill(str(run.state["case_id"]))
    await page.get_by_role("button", name="Show status").click()
    await expect(page.get_by_text("Redisclosure notice")).to_be_visible()
    assert CARE_MARKER not in await page.content()
    await check_page(page, "public-defender-client")
    await context.close()


async def test_officer_and_prosecutor_pages_show_no_word_learned_in_care(
    console_system: ConsoleSystem, browser: Browser, run: Run
) -> None:
    pages = {
        run.officer_key: ["/officer", "/officer/referrals", "/inbox"],
        "ada-1@oakland-prosecutor": ["/reviews", "/alerts", "/inbox"],
    }
    async with console_system.system.client("notify", officer_token(console_system, run)) as notify:

        async def told() -> bool:
            return bool((await notify.get("/inbox")).json())

        await wait_for(told, timeout=60, what="the officer told the person is in the programme")
    for person, paths in pages.items():
        context = await new_context(browser, run.viewport)
        page = await context.new_page()
        await sign_in(page, console_system.url, person)
        for path in paths:
            await page.goto(console_system.url + path)
            await page.wait_for_load_state("networkidle")
            html = await page.content()
            assert CARE_MARKER not in html, f"{person} saw care detail on {path}"
            for word in ("Mental health", "Housing"):
                assert word not in html, f"{person} saw {word!r} on {path}"
        await page.goto(console_system.url + "/inbox")
        badge = page.locator("#unread .badge")
        await expect(badge).to_be_visible()
        unread = int((await badge.inner_text()).split()[0])
        await check_page(page, f"inbox-{person.split('@')[0]}")
        await page.get_by_role("button", name="Mark as read").first.click()
        if unread == 1:
            await expect(badge).to_have_count(0)
        else:
            await expect(badge).to_contain_text(str(unread - 1))
        await context.close()


async def test_the_auditor_verifies_the_ledger_and_opens_the_case_as_of_earlier(
    console_system: ConsoleSystem, browser: Browser, run: Run
) -> None:
    context = await new_context(browser, run.viewport)
    page = await context.new_page()
    await sign_in(page, console_system.url, "auditor-1@county-audit")
    await expect(page.get_by_role("heading", name="Verification: intact")).to_be_visible()
    await check_page(page, "auditor-ledger")
    await page.get_by_label("Case number").fill(str(run.state["case_id"]))
    earlier = run.state["before_assessment"].strftime("%Y-%m-%dT%H:%M:%S")
    await page.get_by_label("As of (optional, UTC)").fill(earlier)
    await page.get_by_role("button", name="Show").click()
    await expect(page.get_by_role("heading", name="Every event")).to_be_visible()
    await expect(page.get_by_text("IntakeAssessmentCompleted")).to_be_visible()
    as_of = page.locator("section.card")
    await expect(as_of).to_be_visible()
    assert "IntakeAssessmentCompleted" not in await as_of.inner_text()
    await check_page(page, "auditor-case-as-of")
    await page.goto(console_system.url + "/ledger")
    last = await page.get_by_label("Last entry").input_value()
    probe = await page.request.get(f"{console_system.url}/ledger/export?first=1&last={last}")
    assert probe.status == 200, (last, (await probe.text())[:500])
    async with page.expect_download() as download:
        await page.get_by_role("button", name="Download export").click()
    assert (await download.value).suggested_filename.startswith("ledger-1-")
    await context.close()


async def test_the_operator_sees_every_service_ready(
    console_system: ConsoleSystem, browser: Browser, run: Run
) -> None:
    context = await new_context(browser, run.viewport)
    page = await context.new_page()
    await sign_in(page, console_system.url, "it-1@county-it")
    for name in ("intake", "casework", "notify", "audit", "outcomes"):
        await expect(page.get_by_role("heading", name=f"{name}: ready")).to_be_visible()
    await check_page(page, "operator")
    await context.close()


async def test_a_service_refusal_reads_as_words_not_json(console_system: ConsoleSystem) -> None:
    async with httpx.AsyncClient(base_url=console_system.url) as http:
        page = await http.get("/sign-in")
        csrf = page.cookies["offramp_csrf"]
        signed = await http.post(
            "/sign-in", data={"person": "cm-1@pontiac-case-management", "csrf_token": csrf}
        )
        assert signed.status_code == 303
        missing = await http.get("/cases/00000000-0000-7000-8000-000000000000")
    assert missing.status_code == 404
    assert "No such case" in missing.text
    assert "problem" not in missing.text and '"status"' not in missing.text

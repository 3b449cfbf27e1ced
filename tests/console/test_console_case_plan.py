"""A case's work after intake, in a real browser against the real services, at phone and
desktop size: the case manager keeps the intervention plan (add, reword, achieve and drop
goals), makes a service referral and records what came of it, the supervisor gives the case to
another case manager, and the case manager closes it as graduated. A refusal from casework
stays on the case page beside its form, in words.

The tests of this module run in order over one system, one case per pass: each goes on from
what the one before left, as the people of the programme do."""

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import pytest
from playwright.async_api import Browser, Page, ViewportSize, expect

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
from tests.referrals import fresh_key, referral_body

pytestmark = [pytest.mark.servers, pytest.mark.timeout(300)]

AGENCY = "pontiac-case-management"
SUPERVISOR = f"sup-1@{AGENCY}"


@dataclass
class Run:
    """One pass at this size, on its own case, with its own case manager to retire mid-form."""

    viewport: ViewportSize
    leaver: str
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def case_id(self) -> UUID:
        case_id: UUID = self.state["case_id"]
        return case_id


@pytest.fixture(
    scope="module",
    params=[Run(PHONE, "cm-leaver-phone"), Run(DESKTOP, "cm-leaver-desktop")],
    ids=["phone-360x740", "desktop-1280x800"],
)
def run(request: pytest.FixtureRequest) -> Run:
    chosen: Run = request.param
    return chosen


def supervisor_token(cs: ConsoleSystem) -> str:
    return cs.system.token(sub="sup-1", role="supervisor", agency=AGENCY)


async def the_case(cs: ConsoleSystem, run: Run) -> dict[str, Any]:
    async with cs.system.client("casework", supervisor_token(cs)) as casework:
        answer = await casework.get(f"/cases/{run.case_id}")
    assert answer.status_code == 200, answer.text
    case: dict[str, Any] = answer.json()
    return case


async def open_case(browser: Browser, cs: ConsoleSystem, run: Run, person: str) -> Page:
    context = await new_context(browser, run.viewport)
    page = await context.new_page()
    await sign_in(page, cs.url, f"{person}@{AGENCY}")
    await page.goto(f"{cs.url}/cases/{run.case_id}")
    await expect(page.get_by_role("heading", name=f"Case {str(run.case_id)[:8]}")).to_be_visible()
    return page


async def test_a_social_contact_becomes_a_case_with_a_case_manager(
    console_system: ConsoleSystem, run: Run
) -> None:
    """The way in (the journey test clicks it through): a social contact every rule passes is
    admitted at the pilot outright, and its case is given to a case manager on the roster."""
    cs = console_system
    async with cs.system.client("casework", supervisor_token(cs)) as casework:
        for subject in ("cm-1", "cm-2"):
            assert (await casework.put(f"/case-managers/{subject}")).status_code == 204
    officer = cs.system.token(sub="officer-17", role="officer", agency="pontiac-pd")
    async with cs.system.client("intake", officer) as intake:
        made = await intake.post("/referrals", json=referral_body(), headers=fresh_key())
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "admitted", made.json()
    run.state["case_id"] = case_id_for_referral(UUID(made.json()["referral_id"]))

    async def assigned() -> bool:
        async with cs.system.client("casework", supervisor_token(cs)) as casework:
            answer = await casework.get(f"/cases/{run.case_id}")
        return answer.status_code == 200 and answer.json()["case_manager"] in ("cm-1", "cm-2")

    await wait_for(assigned, timeout=60, what="the case opened and given to cm-1 or cm-2")
    run.state["case_manager"] = (await the_case(cs, run))["case_manager"]


async def test_the_case_manager_keeps_the_intervention_plan(
    console_system: ConsoleSystem, browser: Browser, run: Run
) -> None:
    page = await open_case(browser, console_system, run, run.state["case_manager"])
    plan = page.locator("section[aria-labelledby=plan]")
    await expect(plan.get_by_text("No goals in the plan yet.")).to_be_visible()
    for goal in ("Get an ID card", "Find a place to stay"):
        await page.get_by_label("A new goal, in the participant's words").fill(goal)
        await page.get_by_role("button", name="Add goal").click()
        await expect(page.get_by_text("Saved: goal.")).to_be_visible()
    await expect(plan.get_by_role("heading", name="Goal 1: Open")).to_be_visible()
    await expect(plan.get_by_role("heading", name="Goal 2: Open")).to_be_visible()
    goal_1, goal_2 = plan.locator(".goal").nth(0), plan.locator(".goal").nth(1)
    await expect(goal_1.locator(".wording")).to_have_text("Get an ID card")
    await expect(goal_2.locator(".wording")).to_have_text("Find a place to stay")

    # Rewording a goal needs the new words: casework refuses an empty one, shown in words.
    await page.get_by_role("button", name="Update goal 1").click()
    refusal = page.locator("#plan-error")
    await expect(refusal).to_contain_text("description")
    assert "{" not in await refusal.inner_text()
    await page.get_by_label("Goal 1: its new wording, or a note").fill("ID card and birth papers")
    await page.get_by_role("button", name="Update goal 1").click()
    await expect(page.get_by_text("Saved: goal-updated.")).to_be_visible()
    await expect(page.locator("#plan-error")).to_have_count(0)
    await expect(goal_1.locator(".wording")).to_have_text("ID card and birth papers")

    await page.get_by_role("button", name="Goal 1 achieved").click()
    await expect(plan.get_by_role("heading", name="Goal 1: Achieved")).to_be_visible()
    await expect(page.get_by_role("button", name="Update goal 1")).to_have_count(0)
    await page.get_by_label("Goal 2: its new wording, or a note").fill("staying with family now")
    await page.get_by_role("button", name="Drop goal 2").click()
    await expect(plan.get_by_role("heading", name="Goal 2: Dropped")).to_be_visible()
    await expect(goal_2).to_contain_text("Dropped with the note: staying with family now")
    # The timeline is casework's own record of the case, newest first, in words.
    timeline = page.locator("ol.timeline li")
    await expect(timeline.first).to_contain_text(
        "Goal dropped: “Find a place to stay” (note: staying with family now)"
    )
    await expect(
        timeline.filter(has_text="Goal updated: “ID card and birth papers”")
    ).to_have_count(1)
    await expect(timeline.last).to_contain_text("Case opened: social contact by officer-17")
    goals = (await the_case(console_system, run))["goals"]
    assert [g["status"] for g in goals] == ["achieved", "dropped"], goals
    await check_page(page, "case-manager-plan")
    await page.context.close()


async def test_the_case_manager_refers_to_a_service_and_records_its_outcome(
    console_system: ConsoleSystem, browser: Browser, run: Run
) -> None:
    page = await open_case(browser, console_system, run, run.state["case_manager"])
    services = page.locator("section[aria-labelledby=services]")
    await page.get_by_label("Refer to a service").select_option("housing")
    await page.get_by_label("Provider").fill("Lighthouse of Oakland County")
    await page.get_by_role("button", name="Make service referral").click()
    await expect(page.get_by_text("Saved: service-referral.")).to_be_visible()
    await expect(services.get_by_role("heading", name="Referral 1: no outcome yet")).to_be_visible()
    await expect(services.locator(".provider")).to_have_text(
        "Housing at Lighthouse of Oakland County"
    )
    await page.get_by_label("What came of referral 1").select_option("waitlisted")
    await page.get_by_role("button", name="Record outcome of referral 1").click()
    await expect(
        services.get_by_role("heading", name="Referral 1: On the waitlist")
    ).to_be_visible()

    # A second tab still offers the outcome form after the first recorded a final outcome:
    # casework refuses it, and the refusal is read on the page, not as JSON.
    stale = await page.context.new_page()
    await stale.goto(page.url.split("?")[0])
    await page.get_by_label("What came of referral 1").select_option("completed")
    await page.get_by_role("button", name="Record outcome of referral 1").click()
    await expect(services.get_by_role("heading", name="Referral 1: Completed")).to_be_visible()
    await expect(page.get_by_label("What came of referral 1")).to_have_count(0)
    await expect(services.locator(".provider")).to_have_text(
        "Housing at Lighthouse of Oakland County"
    )
    await expect(page.locator("ol.timeline li").first).to_contain_text(
        "Outcome of housing at Lighthouse of Oakland County: completed"
    )
    await stale.get_by_label("What came of referral 1").select_option("declined")
    await stale.get_by_role("button", name="Record outcome of referral 1").click()
    refusal = stale.locator("#services-error")
    await expect(refusal).to_contain_text("make a new referral instead")
    assert "{" not in await refusal.inner_text()
    await check_page(stale, "case-manager-service-refused")
    referrals = (await the_case(console_system, run))["service_referrals"]
    assert [r["outcome"] for r in referrals] == ["completed"], referrals
    await check_page(page, "case-manager-services")
    await page.context.close()


async def test_the_supervisor_gives_the_case_to_another_case_manager(
    console_system: ConsoleSystem, browser: Browser, run: Run
) -> None:
    cs = console_system
    async with cs.system.client("casework", supervisor_token(cs)) as casework:
        assert (await casework.put(f"/case-managers/{run.leaver}")).status_code == 204
        page = await open_case(browser, cs, run, "sup-1")
        # The one leaving is retired while the supervisor's page still offers them.
        assert (await casework.delete(f"/case-managers/{run.leaver}")).status_code == 204
    await page.get_by_label("Give the case to").select_option(run.leaver)
    await page.get_by_role("button", name="Reassign the case").click()
    refusal = page.locator("#assignment-error")
    await expect(refusal).to_contain_text("not an active case manager")
    assert "{" not in await refusal.inner_text()

    before = run.state["case_manager"]
    after = "cm-2" if before == "cm-1" else "cm-1"
    offered = (
        await page.get_by_label("Give the case to")
        .locator("option")
        .evaluate_all("options => options.map(o => o.value)")
    )
    assert before not in offered and after in offered, offered
    await page.get_by_label("Give the case to").select_option(after)
    await page.get_by_role("button", name="Reassign the case").click()
    await expect(page.get_by_text("Saved: reassigned.")).to_be_visible()
    await expect(page.locator("dl.facts dd").nth(1)).to_have_text(after)
    assert (await the_case(cs, run))["case_manager"] == after
    run.state["case_manager"] = after
    await check_page(page, "supervisor-reassign")
    await page.context.close()


async def test_the_case_manager_closes_the_case_as_graduated(
    console_system: ConsoleSystem, browser: Browser, run: Run
) -> None:
    page = await open_case(browser, console_system, run, run.state["case_manager"])
    # Only the prosecutor's decision closes a case as charges filed: a post that asks it anyway
    # (the form does not offer it) is refused by casework, and the refusal reads as words.
    csrf = await page.locator("form[action$='/closure'] input[name=csrf_token]").input_value()
    forged = await page.request.post(
        f"{console_system.url}/cases/{run.case_id}/closure",
        form={"reason": "charges_filed", "csrf_token": csrf},
    )
    assert forged.status == 422
    assert "closes as charges_filed only through" in await forged.text()
    assert (await the_case(console_system, run))["phase"] != "closed"

    await page.get_by_label("Why the case closes").select_option("graduated")
    await page.get_by_role("button", name="Close the case").click()
    # The form asks the case manager to confirm first; the browser sends nothing until then.
    confirm = page.locator("input[name=understood]")
    assert await confirm.evaluate("box => box.validity.valueMissing")
    await page.get_by_role("checkbox", name="A closed case takes no more").check()
    await page.get_by_role("button", name="Close the case").click()
    await expect(page.get_by_text("Saved: closed.")).to_be_visible()
    await expect(page.locator("ol.timeline li").first).to_contain_text("Case closed: graduated")
    for gone in ("Add goal", "Make service referral", "Record contact now", "Close the case"):
        await expect(page.get_by_role("button", name=gone)).to_have_count(0)
    case = await the_case(console_system, run)
    assert (case["phase"], case["closure_reason"]) == ("closed", "graduated"), case
    await check_page(page, "case-manager-closed")
    await page.context.close()

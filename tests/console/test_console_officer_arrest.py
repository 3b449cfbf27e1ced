"""The officer's side after a referral, in a real browser against the real services, at phone
and desktop size: a social contact names where the prior activity in the programme area was
(the site's rule reads it, and without it the referral could only wait for the prosecutor), and
the officer later reports a new arrest of the person they referred; a date in the future is
refused in words, the arrest on a real date is recorded, and the liaison prosecutor is told.

The tests of this module run in order over one system, one officer per pass."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from playwright.async_api import Browser, ViewportSize, expect

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


@dataclass
class Run:
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


def supervisor_token(cs: ConsoleSystem) -> str:
    return cs.system.token(sub="sup-1", role="supervisor", agency="pontiac-case-management")


def today() -> datetime:
    return datetime.now(UTC)


async def test_a_social_contact_names_the_place_of_prior_activity_and_is_admitted(
    console_system: ConsoleSystem, browser: Browser, run: Run
) -> None:
    cs = console_system
    async with cs.system.client("casework", supervisor_token(cs)) as casework:
        assert (await casework.put("/case-managers/cm-1")).status_code == 204
    context = await new_context(browser, run.viewport)
    page = await context.new_page()
    await sign_in(page, cs.url, run.officer_key)
    place = page.get_by_role("group", name="Where was that activity?")
    await expect(place).to_be_hidden()  # an arrest diversion, the first door, does not ask it
    await page.get_by_role("radio", name="Social contact").check()
    await expect(place).to_be_visible()
    await check_page(page, "officer-refer-social-contact")

    await page.get_by_label("Given name").fill("Lee")
    await page.get_by_label("Family name").fill("Okafor")
    await page.get_by_label("Date of birth").fill("1984-09-12")
    await page.get_by_label("What happened").select_option("trespass")
    when = (today() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    await page.get_by_label("When").fill(when)
    await page.get_by_label("Where").fill("Wide Track Dr & Auburn Ave")
    for question in await page.locator("fieldset.question:not([hidden])").all():
        no = question.get_by_role("radio", name="No", exact=True)
        if await no.count():
            await no.check()
    verified = page.get_by_role("group", name="verified prior low-level activity")
    await verified.get_by_role("radio", name="Yes", exact=True).check()
    activity_on = (today() - timedelta(days=60)).date().isoformat()
    await (
        page.get_by_role("group", name="most recent verified activity")
        .get_by_label("Date")
        .fill(activity_on)
    )
    await place.get_by_label("Place").fill("48342")
    await page.get_by_role("button", name="Send referral").click()

    # Every rule passes only with the place named: without it the area rule is unknown and a
    # social contact would wait for the prosecutor's review instead of being admitted.
    await page.wait_for_url("**/officer/referrals?made=*")
    await expect(page.get_by_text("Admitted: working with a case manager")).to_be_visible()
    officer = cs.system.token(sub=run.officer, role="officer", agency="pontiac-pd")
    async with cs.system.client("intake", officer) as intake:
        mine = (await intake.get("/referrals")).json()
    assert [r["status"] for r in mine] == ["admitted"], mine
    run.state["referral_id"] = UUID(mine[0]["referral_id"])
    run.state["case_id"] = case_id_for_referral(run.state["referral_id"])
    await context.close()


async def test_the_officer_reports_a_new_arrest_of_the_person_they_referred(
    console_system: ConsoleSystem, browser: Browser, run: Run
) -> None:
    cs = console_system
    case_id = run.state["case_id"]
    async with cs.system.client("casework", supervisor_token(cs)) as casework:

        async def assigned() -> bool:
            answer = await casework.get(f"/cases/{case_id}")
            return answer.status_code == 200 and answer.json()["case_manager"] == "cm-1"

        await wait_for(assigned, timeout=60, what="the case opened and given to cm-1")

    context = await new_context(browser, run.viewport)
    page = await context.new_page()
    await sign_in(page, cs.url, run.officer_key)
    await page.goto(cs.url + "/officer/referrals")
    card = page.locator(f"li.card[data-referral='{run.state['referral_id']}']")
    await card.get_by_text("Report a new arrest").click()
    arrested_on = card.get_by_label("Arrested on")
    result = card.locator(".result")

    await arrested_on.fill((today() + timedelta(days=2)).date().isoformat())
    await card.get_by_role("button", name="Report arrest").click()
    await expect(result).to_contain_text("cannot be in the future")
    assert "{" not in await result.inner_text()

    await arrested_on.fill(today().date().isoformat())
    await card.get_by_role("button", name="Report arrest").click()
    await expect(result).to_have_text("The new arrest is recorded.")
    await check_page(page, "officer-arrest-reported")
    await context.close()

    async with cs.system.client("casework", supervisor_token(cs)) as casework:
        case = (await casework.get(f"/cases/{case_id}")).json()
    assert case["new_arrests"] == 1, case  # the refused date stored nothing

    prosecutor = cs.system.token(sub="ada-1", role="prosecutor", agency="oakland-prosecutor")
    async with cs.system.client("notify", prosecutor) as notify:

        async def told() -> bool:
            messages = (await notify.get("/inbox")).json()
            return any(
                m["trigger"] == "NewArrestReported" and m.get("case_id") == str(case_id)
                for m in messages
            )

        await wait_for(told, timeout=60, what="the liaison prosecutor told of the new arrest")
    context = await new_context(browser, run.viewport)
    page = await context.new_page()
    await sign_in(page, cs.url, "ada-1@oakland-prosecutor")
    await page.goto(cs.url + "/alerts")
    await expect(page.locator(f"li.card[data-case='{case_id}']").first).to_be_visible()
    await check_page(page, "prosecutor-alerts-new-arrest")
    await context.close()

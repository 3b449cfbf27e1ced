"""An officer's referral made with no signal, in a real browser against the real services: the
console's service worker keeps it on the device and sends it when the signal returns, with the
Idempotency-Key the page made, so intake ends with exactly one referral, whether the page is
still open or was closed in the meantime."""

from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, Route, expect

from tests.conftest import wait_for
from tests.console.conftest import PHONE, ConsoleSystem, check_page, new_context, sign_in

pytestmark = [pytest.mark.servers, pytest.mark.timeout(300)]

NO_SIGNAL = "No signal: the referral is saved on this device"


async def referral_form(browser: Browser, cs: ConsoleSystem, officer: str) -> Page:
    """The officer's form, once the service worker has taken the page over."""
    context = await new_context(browser, PHONE)
    page = await context.new_page()
    await sign_in(page, cs.url, f"{officer}@pontiac-pd")
    await expect(page.get_by_text("kept on this device and sent when it returns")).to_be_visible()
    assert await page.evaluate("!!navigator.serviceWorker.controller")
    return page


async def fill_in(page: Page, family_name: str) -> None:
    await page.get_by_label("Given name").fill("Ana")
    await page.get_by_label("Family name").fill(family_name)
    await page.get_by_label("Date of birth").fill("1988-07-14")
    await page.get_by_label("What happened").select_option("drug_possession")
    await page.get_by_label("When").fill("2026-11-30T18:05")
    await page.get_by_label("Where").fill("Perry St & Pike St")
    for question in await page.locator("fieldset.question:not([hidden])").all():
        no = question.get_by_role("radio", name="No", exact=True)
        if await no.count():
            await no.check()


async def referrals_of(cs: ConsoleSystem, officer: str) -> list[dict[str, Any]]:
    token = cs.system.token(sub=officer, role="officer", agency="pontiac-pd")
    async with cs.system.client("intake", token) as intake:
        answer = await intake.get("/referrals")
    assert answer.status_code == 200, answer.text
    mine: list[dict[str, Any]] = answer.json()
    return mine


async def keys_sent(context: BrowserContext) -> list[str]:
    """The Idempotency-Key of every referral that leaves the browser, from now on."""
    keys: list[str] = []

    async def note(route: Route) -> None:
        keys.append(route.request.headers.get("idempotency-key", ""))
        await route.continue_()

    await context.route("**/officer/referrals", note)
    return keys


async def test_a_referral_made_offline_is_sent_once_when_the_signal_returns(
    console_system: ConsoleSystem, browser: Browser
) -> None:
    cs = console_system
    page = await referral_form(browser, cs, "officer-17")
    keys = await keys_sent(page.context)
    await fill_in(page, "Okafor")
    await page.context.set_offline(True)
    await page.get_by_role("button", name="Send referral").click()
    await expect(page.get_by_text(NO_SIGNAL)).to_be_visible()
    assert await page.evaluate("window.offrampPendingReferrals()") == 1
    assert await referrals_of(cs, "officer-17") == []  # nothing reached intake
    # Kept, the form is cleared: a second tap cannot send the same person again under a new key.
    await expect(page.get_by_label("Family name")).to_have_value("")
    await check_page(page, "officer-refer-offline")

    await page.context.set_offline(False)
    await page.wait_for_url("**/officer/referrals?made=*")
    (referral,) = await referrals_of(cs, "officer-17")
    assert referral["referral_id"] in page.url
    await expect(page.get_by_text("Waiting for the prosecutor's review")).to_be_visible()
    assert keys and set(keys) == {keys[0]}, keys  # every attempt carried the page's one key
    assert await page.evaluate("window.offrampPendingReferrals()") == 0
    await page.context.close()


async def test_the_device_sends_it_when_the_signal_returns_with_the_page_closed(
    console_system: ConsoleSystem, browser: Browser
) -> None:
    cs = console_system
    page = await referral_form(browser, cs, "officer-23")
    context = page.context
    keys = await keys_sent(context)
    await fill_in(page, "Lindqvist")
    await context.set_offline(True)
    await page.get_by_role("button", name="Send referral").click()
    await expect(page.get_by_text(NO_SIGNAL)).to_be_visible()
    await page.close()  # the officer puts the phone away; only the worker is left

    await context.set_offline(False)

    async def arrived() -> list[dict[str, Any]] | None:
        return await referrals_of(cs, "officer-23") or None

    (referral,) = await wait_for(arrived, timeout=60, what="the worker sent the kept referral")
    assert set(keys) == {keys[0]}, keys
    page = await context.new_page()
    await page.goto(cs.url + "/officer/referrals")
    await expect(page.locator(f"[data-referral='{referral['referral_id']}']")).to_be_visible()
    assert await page.evaluate("window.offrampPendingReferrals()") == 0
    assert len(await referrals_of(cs, "officer-23")) == 1
    await context.close()


async def test_a_referral_kept_on_a_shared_device_goes_only_under_its_officers_name(
    console_system: ConsoleSystem, browser: Browser
) -> None:
    cs = console_system
    before = {o: len(await referrals_of(cs, o)) for o in ("officer-17", "officer-23")}
    page = await referral_form(browser, cs, "officer-17")
    context = page.context
    await fill_in(page, "Brandt")
    await context.set_offline(True)
    await page.get_by_role("button", name="Send referral").click()
    await expect(page.get_by_text(NO_SIGNAL)).to_be_visible()
    await page.close()
    await context.clear_cookies()  # officer-17's session ends while the phone is offline
    await context.set_offline(False)

    # Another officer signs in on the same phone: the worker tries again, and is refused.
    page = await context.new_page()
    await sign_in(page, cs.url, "officer-23@pontiac-pd")
    await expect(page.get_by_text("saved on this device by officer-17@pontiac-pd")).to_be_visible()
    assert await page.evaluate("window.offrampPendingReferrals()") == 1
    after = {o: len(await referrals_of(cs, o)) for o in before}
    assert after == before, after

    await context.clear_cookies()
    await sign_in(page, cs.url, "officer-17@pontiac-pd")
    await page.wait_for_url("**/officer/referrals?made=*")
    after = {o: len(await referrals_of(cs, o)) for o in before}
    assert after == {"officer-17": before["officer-17"] + 1, "officer-23": before["officer-23"]}
    assert await page.evaluate("window.offrampPendingReferrals()") == 0
    await context.close()

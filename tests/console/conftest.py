"""One running system per test module for the browser tests: the five services and the console,
each served by uvicorn in this process on a free port against the session's real servers, and
headless Chromium (Debian's, never a downloaded build) driven by Playwright.

Every page a test opens is checked with axe-core in the browser and photographed at phone and
desktop size into `OFFRAMP_SCREENSHOTS_DIR` (`.offramp/screenshots` by default), which
`make test` names at its end."""

import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from axe_playwright_python.async_playwright import Axe
from fastapi import FastAPI
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, async_playwright

from audit.bootstrap import create_app as audit_app
from audit.settings import AuditSettings
from casework.bootstrap import create_app as casework_app
from casework.settings import CaseworkSettings
from console.bootstrap import create_app as console_app
from console.settings import ConsoleSettings
from intake.bootstrap import create_app as intake_app
from intake.settings import IntakeSettings
from notify.bootstrap import create_app as notify_app
from notify.settings import NotifySettings
from outcomes.bootstrap import create_app as outcomes_app
from outcomes.settings import OutcomesSettings
from servicekit.auth import LocalIssuer
from tests.conftest import RunningService, System, serve
from tests.profiles import SHIPPED_PROFILES

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: ViewportSize = {"width": 360, "height": 740}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
SCREENSHOTS = Path(os.environ.get("OFFRAMP_SCREENSHOTS_DIR", ".offramp/screenshots"))
SERIOUS = {"serious", "critical"}


@dataclass
class ConsoleSystem:
    system: System
    console: RunningService

    @property
    def url(self) -> str:
        return self.console.url


@pytest.fixture(scope="module")
async def console_system(
    servers: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ConsoleSystem]:
    tag = uuid4().hex[:12]
    key_path = tmp_path_factory.mktemp("console-keys") / "local-issuer.pem"
    common: dict[str, Any] = {
        "database_url": await servers.postgres.create_database(f"t_{tag}"),
        "nats_url": servers.nats.url,
        # The bus is authenticated (provenance): every service signs in with its own identity.
        "nats_credentials_dir": servers.nats.credentials_dir,
        "subject_root": f"t{tag}",
        "stream_name": f"T{tag}",
        "stream_duplicate_window_seconds": 120,
        "temporal_address": servers.temporal.address,
        "temporal_task_queue": f"casework-{tag}",
        "auth_local_key_path": key_path,
        "profiles_dir": SHIPPED_PROFILES,
        "http_port": 0,
        # A browser's pages and the tests' polling are faster than any person (tests/conftest.py).
        "http_rate_limit": "100000/minute",
    }
    issuer = LocalIssuer(key_path, issuer="offramp-local", audience="offramp")
    factories: dict[str, Callable[[], FastAPI]] = {
        "intake": lambda: intake_app(IntakeSettings(**common)),
        "casework": lambda: casework_app(CaseworkSettings(**common)),
        "notify": lambda: notify_app(NotifySettings(**common, smtp_port=1)),
        "audit": lambda: audit_app(AuditSettings(**common, checkpoint_every_entries=5)),
        "outcomes": lambda: outcomes_app(OutcomesSettings(**common)),
    }
    started: dict[str, RunningService] = {}
    console: RunningService | None = None
    try:
        for name, factory in factories.items():
            started[name] = await serve(name, factory())
        settings = ConsoleSettings(
            intake_url=started["intake"].url,
            casework_url=started["casework"].url,
            notify_url=started["notify"].url,
            audit_url=started["audit"].url,
            outcomes_url=started["outcomes"].url,
            auth_local_key_path=key_path,
            directory_jurisdiction="pontiac",
            http_port=0,
        )
        console = await serve("console", console_app(settings))
        yield ConsoleSystem(System(started, issuer, "pontiac", factories), console)
    finally:
        if console is not None:
            await console.stop()
        for service in reversed(list(started.values())):
            await service.stop()


def chromium_installed() -> bool:
    return Path(CHROMIUM).exists()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if not chromium_installed():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    async with async_playwright() as playwright:
        # Each launch runs on a fresh, temporary user-data directory of its own.
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            await chromium.close()


async def new_context(browser: Browser, viewport: ViewportSize) -> BrowserContext:
    context = await browser.new_context(viewport=viewport)
    context.set_default_timeout(20_000)
    return context


async def sign_in(page: Page, console_url: str, person: str) -> None:
    await page.goto(console_url + "/sign-in")
    await page.get_by_role("button", name=person).click()
    await page.wait_for_load_state("networkidle")


async def check_page(page: Page, name: str) -> None:
    """No serious or critical accessibility violation, and a photograph at both sizes."""
    results = await Axe().run(page)
    violations = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
    assert not violations, f"{name}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
    )
    os.makedirs(SCREENSHOTS, exist_ok=True)
    original = page.viewport_size
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        await page.set_viewport_size(size)
        await page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    if original:
        await page.set_viewport_size(original)

"""Signing in and out of the console, its session cookie and its CSRF check, against the app
itself (no service is called: these pages need none)."""

import time
from pathlib import Path

import httpx
import pytest

from console.bootstrap import create_app
from console.settings import ConsoleSettings


class Clock:
    """Starts now, since the local issuer's tokens end by the real clock."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def console(tmp_path: Path, clock: Clock, **settings: object) -> httpx.AsyncClient:
    # Each test sets a setting of its own type; `settings` cannot say which.
    app = create_app(
        ConsoleSettings(auth_local_key_path=tmp_path / "issuer.pem", **settings),  # type: ignore[arg-type]
        clock=clock,
    )
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8000"
    )


async def signed_in(
    http: httpx.AsyncClient, person: str = "cm-1@pontiac-case-management"
) -> httpx.Response:
    await http.get("/sign-in")
    return await http.post(
        "/sign-in", data={"person": person, "csrf_token": http.cookies["offramp_csrf"]}
    )


async def test_a_signed_out_browser_is_sent_to_sign_in_with_the_page_it_wanted(
    tmp_path: Path,
) -> None:
    async with console(tmp_path, Clock()) as http:
        answer = await http.get("/caseload?x=1")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=%2Fcaseload%3Fx%3D1"


async def test_an_htmx_request_is_told_to_go_to_sign_in_as_a_whole_page(tmp_path: Path) -> None:
    async with console(tmp_path, Clock()) as http:
        answer = await http.get("/inbox/count", headers={"HX-Request": "true"})
    assert answer.headers["HX-Redirect"].startswith("/sign-in?next=")


async def test_signing_in_starts_a_session_in_an_httponly_lax_cookie_and_goes_home(
    tmp_path: Path,
) -> None:
    async with console(tmp_path, Clock()) as http:
        answer = await signed_in(http)
    assert answer.status_code == 303 and answer.headers["location"] == "/caseload"
    cookie = next(
        c for c in answer.headers.get_list("set-cookie") if c.startswith("offramp_session=")
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie


async def test_cookies_are_secure_when_the_console_is_not_on_this_machine(tmp_path: Path) -> None:
    async with console(tmp_path, Clock(), public_url="https://console.county.example") as http:
        page = await http.get("/sign-in")
    assert all("Secure" in c for c in page.headers.get_list("set-cookie"))


@pytest.mark.parametrize("token", [None, "forged"])
async def test_a_sign_in_without_the_pages_csrf_token_is_refused(
    tmp_path: Path, token: str | None
) -> None:
    async with console(tmp_path, Clock()) as http:
        await http.get("/sign-in")
        data = {"person": "officer-17@pontiac-pd", **({"csrf_token": token} if token else {})}
        answer = await http.post("/sign-in", data=data)
    assert answer.status_code == 403
    assert "offramp_session" not in answer.cookies


async def test_a_session_ends_after_its_maximum_age(tmp_path: Path) -> None:
    clock = Clock()
    async with console(tmp_path, clock, session_max_age_seconds=600) as http:
        await signed_in(http, "it-1@county-it")
        clock.now += 599
        assert (await http.get("/")).headers["location"] == "/operations"  # still signed in
        clock.now += 2
        answer = await http.get("/operations")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=%2Foperations&expired=1"


async def test_signing_out_ends_the_session(tmp_path: Path) -> None:
    async with console(tmp_path, Clock()) as http:
        await signed_in(http)
        out = await http.post("/sign-out", data={"csrf_token": http.cookies["offramp_csrf"]})
        assert out.status_code == 303
        again = await http.get("/caseload")
    assert again.status_code == 303 and again.headers["location"].startswith("/sign-in")


async def test_sign_in_never_redirects_off_the_console(tmp_path: Path) -> None:
    async with console(tmp_path, Clock()) as http:
        await http.get("/sign-in")
        answer = await http.post(
            "/sign-in",
            data={
                "person": "officer-17@pontiac-pd",
                "next": "//evil.example/",
                "csrf_token": http.cookies["offramp_csrf"],
            },
        )
    assert answer.headers["location"] == "/officer"


async def test_a_page_of_another_role_says_so_in_words(tmp_path: Path) -> None:
    async with console(tmp_path, Clock()) as http:
        await signed_in(http, "officer-17@pontiac-pd")
        answer = await http.get("/ledger")
    assert answer.status_code == 403
    assert "This page is not for your role." in answer.text

"""Production sign-in: the console sends the browser to the county's OpenID provider with an
authorization-code request carrying PKCE (S256), then trades the code and its verifier for a
token that Offramp's services accept. The provider here is a small fake served on a free port,
which checks the verifier against the challenge as a real one does."""

import asyncio
import base64
import hashlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI, Form
from fastapi.responses import JSONResponse, RedirectResponse
from jwt.algorithms import OKPAlgorithm

from console.bootstrap import create_app
from console.settings import ConsoleSettings

CLIENT_ID = "offramp-console"


@dataclass
class FakeProvider:
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    challenges: dict[str, str] = field(default_factory=dict)
    seen: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/authorize")
        async def authorize(
            response_type: str,
            client_id: str,
            redirect_uri: str,
            state: str,
            code_challenge: str,
            code_challenge_method: str,
            scope: str = "",
            nonce: str = "",
        ) -> RedirectResponse:
            code = f"code-{len(self.challenges) + 1}"
            self.challenges[code] = code_challenge
            return RedirectResponse(f"{redirect_uri}?code={code}&state={state}", status_code=302)

        @app.post("/token")
        async def token(
            grant_type: str = Form(),
            code: str = Form(),
            code_verifier: str = Form(),
            client_id: str = Form(),
            redirect_uri: str = Form(),
        ) -> JSONResponse:
            self.seen.append(
                {
                    "grant_type": grant_type,
                    "code": code,
                    "client_id": client_id,
                    "redirect_uri": redirect_uri,
                    "code_verifier": code_verifier,
                }
            )
            digest = hashlib.sha256(code_verifier.encode()).digest()
            expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if self.challenges.pop(code, None) != expected:
                return JSONResponse(
                    {"error": "invalid_grant", "error_description": "PKCE verification failed"},
                    status_code=400,
                )
            now = int(time.time())
            access = jwt.encode(
                {
                    "iss": "https://id.county.example",
                    "aud": "offramp",
                    "sub": "officer-17",
                    "iat": now,
                    "exp": now + 3600,
                    "roles": ["officer"],
                    "agency": "pontiac-pd",
                    "jurisdiction": "pontiac",
                    "name": "Officer Dana Reyes",
                },
                self.key,
                algorithm="EdDSA",
                headers={"kid": "k1"},
            )
            return JSONResponse(
                {"access_token": access, "token_type": "Bearer", "expires_in": 3600}
            )

        @app.get("/jwks")
        async def jwks() -> dict[str, Any]:
            public = json.loads(OKPAlgorithm.to_jwk(self.key.public_key()))
            return {"keys": [{**public, "kid": "k1", "use": "sig", "alg": "EdDSA"}]}

        return app


@pytest.fixture
async def provider() -> AsyncIterator[FakeProvider]:
    fake = FakeProvider()
    server = uvicorn.Server(uvicorn.Config(fake.app(), host="127.0.0.1", port=0, log_config=None))
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the fake provider did not start"
        await asyncio.sleep(0.02)
    fake.url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    try:
        yield fake
    finally:
        server.should_exit = True
        await task


def oidc_console(fake: FakeProvider, tmp_path: Path) -> httpx.AsyncClient:
    settings = ConsoleSettings(
        sign_in="oidc",
        auth_issuer="https://id.county.example",
        auth_jwks_url=fake.url + "/jwks",
        oidc_authorization_endpoint=fake.url + "/authorize",
        oidc_token_endpoint=fake.url + "/token",
        oidc_client_id=CLIENT_ID,
        public_url="http://127.0.0.1:8000",
        session_secret="a-test-secret-that-is-long-enough-for-sessions",
    )
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(settings)), base_url="http://127.0.0.1:8000"
    )


async def test_sign_in_asks_the_provider_for_a_code_with_an_s256_challenge(
    provider: FakeProvider, tmp_path: Path
) -> None:
    async with oidc_console(provider, tmp_path) as console:
        answer = await console.get("/sign-in?next=/officer/referrals")
    assert answer.status_code == 303
    target = urlsplit(answer.headers["location"])
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert f"{target.scheme}://{target.netloc}{target.path}" == provider.url + "/authorize"
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == "http://127.0.0.1:8000/sign-in/callback"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43  # base64url of a SHA-256, unpadded
    assert query["state"] and query["nonce"] and "openid" in query["scope"]
    assert "offramp_oidc" in answer.cookies  # the verifier stays with this browser


async def test_the_callback_trades_code_and_verifier_for_a_session_and_goes_on(
    provider: FakeProvider, tmp_path: Path
) -> None:
    async with oidc_console(provider, tmp_path) as console, httpx.AsyncClient() as browser:
        start = await console.get("/sign-in?next=/officer/referrals")
        back = await browser.get(start.headers["location"])  # the person signs in there
        callback = urlsplit(back.headers["location"])
        signed = await console.get(f"{callback.path}?{callback.query}")
        assert signed.status_code == 303, signed.text
        assert signed.headers["location"] == "/officer/referrals"
        assert "offramp_session" in signed.cookies
        home = await console.get("/")
    assert home.headers["location"] == "/officer"
    (exchange,) = provider.seen
    assert exchange["grant_type"] == "authorization_code" and exchange["client_id"] == CLIENT_ID


async def test_a_callback_whose_state_this_browser_did_not_start_signs_nobody_in(
    provider: FakeProvider, tmp_path: Path
) -> None:
    async with oidc_console(provider, tmp_path) as console:
        await console.get("/sign-in")
        answer = await console.get("/sign-in/callback?code=code-1&state=someone-elses")
    assert answer.status_code == 401
    assert "did not start here" in answer.text
    assert "offramp_session" not in answer.cookies
    assert not provider.seen


async def test_a_refusal_by_the_provider_is_shown_in_words(
    provider: FakeProvider, tmp_path: Path
) -> None:
    async with oidc_console(provider, tmp_path) as console:
        start = await console.get("/sign-in")
        state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
        # A code the provider never issued: its token endpoint refuses the exchange.
        answer = await console.get(f"/sign-in/callback?code=forged&state={state}")
    assert answer.status_code == 401
    assert "The sign-in provider refused" in answer.text
    assert "{" not in answer.text.split("<main")[1]


async def test_no_development_directory_in_production(
    provider: FakeProvider, tmp_path: Path
) -> None:
    async with oidc_console(provider, tmp_path) as console:
        await console.get("/sign-in")
        answer = await console.post(
            "/sign-in",
            data={
                "person": "it-1@county-it",
                "csrf_token": console.cookies.get("offramp_csrf", ""),
            },
        )
    assert answer.status_code in (400, 403)
    assert "offramp_session" not in answer.cookies

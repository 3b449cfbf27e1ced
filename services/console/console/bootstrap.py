"""Wires the console together: its settings, the clients of the four services, the cookies, the
sign-in (the local issuer's directory, or the county's OpenID provider) and the pages."""

import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from console.adapters.cookies import Cookies
from console.adapters.oidc import OidcFlow, Provider
from console.adapters.services import Services
from console.domain.words import word
from console.settings import ConsoleSettings
from console.use_cases import Console
from servicekit.auth import LocalIssuer, TokenVerifier

ENTRYPOINTS = Path(__file__).parent / "entrypoints"


class ConsoleConfigError(ValueError):
    """The settings cannot make a working console; the message names the setting to fix."""


@dataclass(frozen=True)
class Container:
    settings: ConsoleSettings
    services: Services
    console: Console
    cookies: Cookies
    verifier: TokenVerifier
    issuer: LocalIssuer | None
    oidc: OidcFlow | None
    templates: Jinja2Templates
    clock: Callable[[], float]


def build(settings: ConsoleSettings, clock: Callable[[], float] = time.time) -> Container:
    issuer: LocalIssuer | None = None
    oidc: OidcFlow | None = None
    if settings.auth_jwks_url:
        verifier = TokenVerifier(
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
            jwks_url=settings.auth_jwks_url,
        )
    elif settings.auth_local_key_path:
        issuer = LocalIssuer(
            settings.auth_local_key_path,
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
        )
        verifier = TokenVerifier(
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
            public_key=issuer.public_key,
        )
    else:
        raise ConsoleConfigError(
            "set OFFRAMP_AUTH_JWKS_URL (production) or OFFRAMP_AUTH_LOCAL_KEY_PATH (the local "
            "issuer's key, as `make up` does)"
        )
    if settings.sign_in == "oidc":
        missing = [
            name
            for name in ("oidc_authorization_endpoint", "oidc_token_endpoint", "oidc_client_id")
            if not getattr(settings, name)
        ]
        if not settings.session_secret:
            missing.append("session_secret")
        if missing or not settings.auth_jwks_url:
            names = [f"OFFRAMP_{n.upper()}" for n in [*missing, "auth_jwks_url"]]
            raise ConsoleConfigError("OpenID sign-in needs " + ", ".join(names))
        oidc = OidcFlow(
            Provider(
                authorization_endpoint=str(settings.oidc_authorization_endpoint),
                token_endpoint=str(settings.oidc_token_endpoint),
                client_id=str(settings.oidc_client_id),
                client_secret=settings.oidc_client_secret,
                scope=settings.oidc_scope,
                redirect_uri=settings.oidc_redirect_uri,
            )
        )
        issuer = None  # production never signs its own tokens
    elif issuer is None:
        raise ConsoleConfigError(
            "the development sign-in signs with the local issuer: set OFFRAMP_AUTH_LOCAL_KEY_PATH"
        )
    http = httpx.AsyncClient(timeout=settings.service_timeout_seconds)
    services = Services(
        http,
        {
            "intake": settings.intake_url,
            "casework": settings.casework_url,
            "notify": settings.notify_url,
            "audit": settings.audit_url,
            "outcomes": settings.outcomes_url,
        },
    )
    templates = Jinja2Templates(directory=ENTRYPOINTS / "templates")
    templates.env.filters["word"] = word
    return Container(
        settings=settings,
        services=services,
        console=Console(services),
        cookies=Cookies(
            settings.session_secret or secrets.token_urlsafe(48),
            secure=settings.secure_cookies,
            max_age_seconds=settings.session_max_age_seconds,
        ),
        verifier=verifier,
        issuer=issuer,
        oidc=oidc,
        templates=templates,
        clock=clock,
    )


def create_app(settings: ConsoleSettings, clock: Callable[[], float] = time.time) -> FastAPI:
    from console.entrypoints import pages

    container = build(settings, clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await container.services.http.aclose()

    app = FastAPI(
        title="Offramp console",
        description="The web pages people use, over the services' own HTTP APIs.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.container = container
    app.mount("/static", StaticFiles(directory=ENTRYPOINTS / "static"), name="static")
    pages.install(app)
    return app

"""Signing in and out. The embedded default lists the seeded directory and signs the chosen
person in with the local issuer's key; production sends people to the county's OpenID provider
(authorization code with PKCE) and signs them in with the access token it returns."""

import asyncio
from typing import Annotated
from urllib.parse import urlsplit

import jwt
from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from console.adapters.oidc import SignInFailed
from console.bootstrap import Container
from console.domain.directory import DIRECTORY, find
from console.domain.session import Session, ends_at
from console.entrypoints.web import Csrf, Deps, go, render
from servicekit.auth import AuthenticationError

router = APIRouter()


def _safe_next(target: str | None) -> str | None:
    """Only a page of this console: never a redirect to somewhere else."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    return None if urlsplit(target).netloc else target


async def _session_for(container: Container, token: str, name: str | None = None) -> Session:
    # The JWKS fetch blocks; off the event loop it cannot stall every other page.
    principal = await asyncio.to_thread(container.verifier.verify, token)
    claims = jwt.decode(token, options={"verify_signature": False})
    exp = claims.get("exp")
    now = container.clock()
    return Session(
        token=token,
        subject=principal.subject,
        name=name or str(claims.get("name") or principal.subject),
        agency=principal.agency,
        jurisdiction=principal.jurisdiction,
        roles=principal.roles,
        expires_at=ends_at(
            now=now,
            token_expires_at=float(exp) if isinstance(exp, int | float) else None,
            max_age_seconds=container.settings.session_max_age_seconds,
        ),
    )


def _signed_in(container: Container, session: Session, target: str | None) -> Response:
    response = RedirectResponse(_safe_next(target) or session.home, status_code=303)
    container.cookies.keep_session(response, session)
    container.cookies.new_csrf(response)  # a new token with each session
    return response


@router.get("/sign-in")
async def sign_in_page(
    request: Request, container: Deps, next: str | None = None, expired: int = 0
) -> Response:
    if container.oidc is not None:
        started = container.oidc.start(_safe_next(next) or "/")
        response = RedirectResponse(started.url, status_code=303)
        container.cookies.keep_flow(response, started.flow)
        return response
    return render(
        request,
        "sign_in.html",
        {"people": DIRECTORY, "next": _safe_next(next) or "", "expired": bool(expired)},
    )


@router.post("/sign-in", dependencies=[Csrf])
async def sign_in_as(
    request: Request,
    container: Deps,
    person: Annotated[str, Form()],
    next: Annotated[str, Form()] = "",
) -> Response:
    chosen = find(person)
    if container.issuer is None or chosen is None:
        return render(
            request,
            "sign_in.html",
            {"people": DIRECTORY, "next": next, "error": "Choose a person from the list."},
            status=400,
        )
    token = container.issuer.issue(
        subject=chosen.subject,
        roles=[chosen.role],
        agency=chosen.agency,
        jurisdiction=container.settings.directory_jurisdiction,
        ttl_seconds=container.settings.session_max_age_seconds,
    )
    session = await _session_for(container, token, chosen.name)
    return _signed_in(container, session, next)


@router.get("/sign-in/callback")
async def oidc_callback(
    request: Request,
    container: Deps,
    state: str = "",
    code: str = "",
    error: str = "",
    error_description: str = "",
) -> Response:
    if container.oidc is None:
        return go("/sign-in")
    flow = container.cookies.flow_of(request)
    try:
        if error:
            raise SignInFailed(f"The sign-in provider refused: {error_description or error}.")
        token = await container.oidc.finish(flow, state=state, code=code)
        session = await _session_for(container, token)
    except (SignInFailed, AuthenticationError) as failure:
        message = str(failure)
        if isinstance(failure, AuthenticationError):
            message = "The sign-in provider's token is not one Offramp accepts: " + message
        return render(request, "error.html", {"message": message, "status": 401}, status=401)
    response = _signed_in(container, session, (flow or {}).get("next"))
    response.delete_cookie("offramp_oidc", path="/")
    return response


@router.post("/sign-out", dependencies=[Csrf])
async def sign_out(request: Request, container: Deps) -> Response:
    response = RedirectResponse("/sign-in", status_code=303)
    container.cookies.end_session(response)
    return response

"""The browser's cookies: the session (signed, with its own end) and the CSRF token that every
form carries back. Both HttpOnly and SameSite=Lax, Secure wherever the console is not on
this machine."""

import hmac
import secrets
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from console.domain.session import Session

SESSION_COOKIE = "offramp_session"
CSRF_COOKIE = "offramp_csrf"
OIDC_COOKIE = "offramp_oidc"


class Cookies:
    def __init__(self, secret: str, *, secure: bool, max_age_seconds: int) -> None:
        self._sessions = URLSafeTimedSerializer(secret, salt="offramp-console-session")
        self._flows = URLSafeTimedSerializer(secret, salt="offramp-console-oidc")
        self._secure = secure
        self._max_age = max_age_seconds

    def session_of(self, request: Request) -> Session | None:
        raw = request.cookies.get(SESSION_COOKIE)
        if not raw:
            return None
        try:
            data = self._sessions.loads(raw, max_age=self._max_age)
            return Session.from_cookie(data)
        except (BadSignature, KeyError, TypeError, ValueError):
            return None

    def keep_session(self, response: Response, session: Session) -> None:
        self._set(response, SESSION_COOKIE, self._sessions.dumps(session.to_cookie()))

    def end_session(self, response: Response) -> None:
        response.delete_cookie(
            SESSION_COOKIE, path="/", secure=self._secure, httponly=True, samesite="lax"
        )

    def csrf_of(self, request: Request) -> str | None:
        return request.cookies.get(CSRF_COOKIE)

    def new_csrf(self, response: Response) -> str:
        token = secrets.token_urlsafe(32)
        self._set(response, CSRF_COOKIE, token)
        return token

    @staticmethod
    def csrf_matches(expected: str | None, given: str | None) -> bool:
        return bool(expected and given) and hmac.compare_digest(str(expected), str(given))

    def keep_flow(self, response: Response, flow: dict[str, Any]) -> None:
        self._set(response, OIDC_COOKIE, self._flows.dumps(flow), max_age=600)

    def flow_of(self, request: Request) -> dict[str, Any] | None:
        raw = request.cookies.get(OIDC_COOKIE)
        if not raw:
            return None
        try:
            flow: dict[str, Any] = self._flows.loads(raw, max_age=600)
            return flow
        except BadSignature:
            return None

    def _set(self, response: Response, name: str, value: str, max_age: int | None = None) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age or self._max_age,
            path="/",
            secure=self._secure,
            httponly=True,
            samesite="lax",
        )

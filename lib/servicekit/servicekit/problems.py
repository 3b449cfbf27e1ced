"""RFC 9457 problem details: every error a client sees says what was wrong and what to do."""

from collections.abc import Callable, Mapping
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route

from servicekit.auth import AuthenticationError, AuthorizationError
from servicekit.eventstore import ConcurrencyError
from servicekit.log import get_logger
from servicekit.ratelimit import RateLimited
from servicekit.refusals import Refusal

log = get_logger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://offramp.dev/problems/"


class ProblemDocument(BaseModel):
    """An RFC 9457 problem as the services send it; some carry more members (e.g. `errors`)."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str
    title: str
    status: int
    detail: str
    instance: str


# Every operation's OpenAPI says so: a client that reads the document knows how errors look.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "description": "Refused: the problem document says what was wrong and what to do.",
        "content": {PROBLEM_JSON: {"schema": ProblemDocument.model_json_schema()}},
    }
}


class Problem(Refusal):
    """A refusal made up on the spot by an HTTP handler; a domain's own refusals are typed
    subclasses of `Refusal` instead."""

    def __init__(self, status: int, kind: str, title: str, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.title = title
        self._extensions = extensions

    def extensions(self) -> dict[str, Any]:
        return self._extensions


def refusal_response(request: Request, refusal: Refusal) -> JSONResponse:
    return problem_response(
        request,
        refusal.status,
        refusal.kind,
        refusal.title,
        refusal.detail,
        **refusal.extensions(),
    )


def translate_refusals(
    app: FastAPI, translations: Mapping[type[Exception], Callable[[Any], Refusal]]
) -> None:
    """Answer each of these exceptions, raised by code that cannot subclass `Refusal`
    (`contracts/`), as the refusal its function makes of it."""
    for kind, refusal_of in translations.items():

        async def translated(
            request: Request, exc: Exception, refusal_of: Callable[[Any], Refusal] = refusal_of
        ) -> JSONResponse:
            return refusal_response(request, refusal_of(exc))

        app.add_exception_handler(kind, translated)


def problem_response(
    request: Request,
    status: int,
    kind: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body = {
        "type": TYPE_BASE + kind,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extensions,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Refusal)
    async def _refused(request: Request, exc: Refusal) -> JSONResponse:
        return refusal_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        unreadable = _unreadable_body(request, exc)
        if unreadable is not None:
            return unreadable
        errors = [
            {"location": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        return problem_response(
            request,
            422,
            "invalid-request",
            "The request is not valid",
            "Correct the fields listed in 'errors' and send the request again.",
            errors=errors,
        )

    @app.exception_handler(AuthenticationError)
    async def _unauthenticated(request: Request, exc: AuthenticationError) -> JSONResponse:
        # Not an access event (it names nobody the service can vouch for: ADR 0010), so logged.
        log.info("request without a usable token refused", path=request.url.path, reason=str(exc))
        return problem_response(
            request,
            401,
            "unauthenticated",
            "Authentication required",
            f"{exc} Send 'Authorization: Bearer <token>' with a valid token.",
            headers={"WWW-Authenticate": "Bearer"},
        )

    @app.exception_handler(AuthorizationError)
    async def _forbidden(request: Request, exc: AuthorizationError) -> JSONResponse:
        return problem_response(request, 403, "forbidden", "Not allowed", str(exc))

    @app.exception_handler(RateLimited)
    async def _too_many(request: Request, exc: RateLimited) -> JSONResponse:
        # The same words every time: identical refusals are counted as one (servicekit.access).
        return problem_response(
            request,
            429,
            "too-many-requests",
            "Too many requests",
            "This caller has sent this request too often for now; wait as long as the "
            "Retry-After header says before sending it again.",
            headers={"Retry-After": str(exc.retry_after_seconds)},
        )

    @app.exception_handler(ConcurrencyError)
    async def _conflict(request: Request, exc: ConcurrencyError) -> JSONResponse:
        return problem_response(request, 409, "conflict", "Changed meanwhile", str(exc))

    # Postgres stores no NUL character in text or JSON; the transaction that tried was rolled
    # back, so the request is refused as invalid instead of failing as the service's fault.
    @app.exception_handler(asyncpg.UntranslatableCharacterError)
    @app.exception_handler(asyncpg.CharacterNotInRepertoireError)
    async def _unstorable(request: Request, exc: asyncpg.DataError) -> JSONResponse:
        return problem_response(
            request,
            422,
            "unstorable-text",
            "The request holds text that cannot be stored",
            "A value holds the NUL character (U+0000) or another character that cannot be "
            "stored; remove it and send the request again.",
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404 and exc.detail == "Not Found":
            return _unknown_path(request)
        kind = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request)
        return problem_response(
            request, exc.status_code, kind, str(exc.detail), str(exc.detail), headers=headers
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", path=request.url.path)
        return problem_response(
            request,
            500,
            "internal-error",
            "Internal error",
            "The service failed to handle this request; nothing was stored. Try again later.",
        )


def _unreadable_body(request: Request, exc: RequestValidationError) -> JSONResponse | None:
    """A body that is not JSON at all, or not sent as JSON, is told what to send (issue 14):
    415 for another media type, 400 for text that does not parse; a field-by-field 422 would
    only say "Input should be a valid dictionary"."""
    whole_body = [e for e in exc.errors() if tuple(e.get("loc", ())) == ("body",)]
    if any(e.get("type") == "json_invalid" for e in exc.errors()):
        return problem_response(
            request,
            400,
            "body-not-json",
            "The body is not JSON",
            "The body does not parse as JSON; send one JSON object with "
            "'Content-Type: application/json', as this operation's document at /docs shows.",
        )
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    is_json = media_type == "application/json" or media_type.endswith("+json")
    if whole_body and not is_json:
        sent = f"as {media_type[:100]!r}" if media_type else "with no Content-Type"
        return problem_response(
            request,
            415,
            "unsupported-media-type",
            "Send JSON",
            f"The body was sent {sent}; send it as one JSON object with "
            "'Content-Type: application/json', as this operation's document at /docs shows.",
        )
    if whole_body:
        return problem_response(
            request,
            422,
            "invalid-request",
            "The request is not valid",
            "The body must be one JSON object with the fields this operation's document at "
            "/docs shows.",
            errors=[{"location": "body", "message": "send a JSON object"}],
        )
    return None


def _unknown_path(request: Request) -> Response:
    path = request.url.path
    other = path.rstrip("/") if path.endswith("/") else path + "/"
    if other and other != path and _served(request, other):
        # Relative, so the Host header a caller sent never comes back in it (Starlette's own
        # slash redirect builds an absolute URL from it: issue 14).
        query = request.url.query
        return Response(
            status_code=307, headers={"Location": other + (f"?{query}" if query else "")}
        )
    shown = path if len(path) <= 200 else path[:200] + "..."
    return problem_response(
        request,
        404,
        "not-found",
        "No such path",
        f"This service has no {shown!r}; its operations are listed at /docs "
        "(and described at /openapi.json).",
    )


def _served(request: Request, path: str) -> bool:
    scope = {**request.scope, "path": path}
    # Any route kind: FastAPI keeps an included router's routes behind one route of its own.
    return any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes)


def _allowed_methods(request: Request) -> str:
    """Every method the path answers to (RFC 9110 wants them all in a 405's Allow); Starlette's
    own header names only those of the first route with the path, and a path often has two."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.methods:
            match, _ = route.matches({**request.scope, "method": "GET"})
            if match is not Match.NONE:
                methods |= route.methods
    return ", ".join(sorted(methods))

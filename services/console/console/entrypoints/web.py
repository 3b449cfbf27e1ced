"""What every page shares: the signed-in person, the CSRF check on every form, rendering, and
readable errors (never a trace or a service's raw JSON)."""

from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from console.adapters.services import ServiceError
from console.bootstrap import Container
from console.domain.session import Session

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"

NAV: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("/officer", "Refer", ("officer",)),
    ("/officer/referrals", "My referrals", ("officer",)),
    ("/reviews", "Reviews", ("prosecutor",)),
    ("/alerts", "Alerts", ("prosecutor",)),
    ("/caseload", "Caseload", ("case_manager", "supervisor")),
    ("/roster", "Roster", ("supervisor",)),
    ("/clients", "Clients", ("public_defender",)),
    ("/ledger", "Ledger", ("auditor",)),
    ("/operations", "Operations", ("operator",)),
    ("/reports", "Reports", ("analyst",)),
)


class SignInRequired(Exception):
    def __init__(self, reason: str = "") -> None:
        self.reason = reason


class CsrfRefused(Exception):
    pass


def container_of(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


Deps = Annotated[Container, Depends(container_of)]


def signed_in(request: Request, container: Deps) -> Session:
    session = container.cookies.session_of(request)
    if session is None:
        raise SignInRequired()
    if session.expired(container.clock()):
        raise SignInRequired("expired")
    return session


Me = Annotated[Session, Depends(signed_in)]


def needs(*roles: str) -> Callable[[Session], Session]:
    def check(me: Me) -> Session:
        if not me.has_role(*roles):
            raise ServiceError("console", 403, "This page is not for your role.")
        return me

    return check


async def csrf_checked(request: Request, container: Deps) -> None:
    """Every state-changing request carries the CSRF token, in the form or (htmx and the offline
    queue) in a header; a post without it is refused before anything is sent on."""
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not container.cookies.csrf_matches(container.cookies.csrf_of(request), given):
        raise CsrfRefused()


Csrf = Depends(csrf_checked)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    me: Session | None = None,
    status: int = 200,
) -> HTMLResponse:
    container = container_of(request)
    csrf = container.cookies.csrf_of(request)
    fresh = csrf is None
    if csrf is None:
        csrf = "pending"
    nav = [(href, label) for href, label, roles in NAV if me is not None and me.has_role(*roles)]
    values = {
        "me": me,
        "nav": nav,
        "csrf": csrf,
        "path": request.url.path,
        "htmx": request.headers.get("HX-Request") == "true",
        **(context or {}),
    }
    if fresh:
        # A browser's first page: make its token now, so the forms on this page carry it.
        response = HTMLResponse("")
        values["csrf"] = container.cookies.new_csrf(response)
        page = container.templates.TemplateResponse(request, template, values, status_code=status)
        page.raw_headers.extend(h for h in response.raw_headers if h[0] == b"set-cookie")
        return page
    return container.templates.TemplateResponse(request, template, values, status_code=status)


def go(path: str, request: Request | None = None, status: int = 303) -> Response:
    """A redirect that htmx follows too (it would otherwise swap the next page into a part)."""
    if request is not None and request.headers.get("HX-Request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": path})
    return RedirectResponse(path, status_code=status)


Handler = Callable[[Request, Any], Coroutine[Any, Any, Response]]


def install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        query = f"?next={quote(target, safe='')}" + ("&expired=1" if exc.reason else "")
        response = go("/sign-in" + query, request)
        if exc.reason:
            container_of(request).cookies.end_session(response)
        return response

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, exc: CsrfRefused) -> Response:
        message = (
            "This form could not be accepted: it did not come from a page of this console, or "
            "it is too old. Go back, reload the page and send it again."
        )
        return _error(request, 403, message)

    @app.exception_handler(ServiceError)
    async def _service(request: Request, exc: ServiceError) -> Response:
        if exc.status == 401:
            return await _sign_in(request, SignInRequired("expired"))
        return _error(request, exc.status, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        messages = {404: "There is no such page.", 405: "That is not something this page does."}
        return _error(request, exc.status_code, messages.get(exc.status_code, str(exc.detail)))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        return _error(request, 500, "Something went wrong in the console. Please try again.")


def _error(request: Request, status: int, message: str) -> Response:
    container = container_of(request)
    me = container.cookies.session_of(request)
    if request.headers.get("HX-Request") == "true":
        return render(request, "parts/error.html", {"message": message}, me=me, status=status)
    return render(
        request, "error.html", {"message": message, "status": status}, me=me, status=status
    )


def install_validation_page(app: FastAPI) -> None:
    from fastapi.exceptions import RequestValidationError

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        fields = sorted({str(e.get("loc", ("", ""))[-1]).replace("_", " ") for e in exc.errors()})
        return _error(request, 422, "Please fill in: " + ", ".join(fields) + ".")

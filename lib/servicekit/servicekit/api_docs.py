"""Each service documents itself with nothing from the network: Swagger UI at `/docs` from the
assets the pinned `swagger-ui-bundle-v2` package ships, the OpenAPI document with a bearer
scheme on every operation that takes a token (so "Authorize" and "Try it out" send one), and
the AsyncAPI document of the events at `/asyncapi.json`; every state-changing operation names
the `Idempotency-Key` header (servicekit.idempotency)."""

from functools import cache
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPBearer
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from servicekit.idempotency import HEADER, MAX_KEY, MIN_KEY, STATE_CHANGING

ASSETS = "/docs/assets"
# The scheme every operation that reads the token declares (servicekit.http's dependency).
BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    bearerFormat="JWT",
    description="A token from the county's OIDC provider; in development `make token ROLE=...`.",
)


@cache
def _asyncapi() -> dict[str, Any]:
    # Imported when the document is first asked for: FastStream, which writes it, is some 180
    # modules that a service at rest never uses (issue 16: idle memory).
    from servicekit.contracts_cli import asyncapi_document

    return asyncapi_document()


def install_docs(app: FastAPI) -> None:
    app.mount(ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
            swagger_ui_parameters={"persistAuthorization": True},
        )

    @app.get(
        "/asyncapi.json",
        tags=["operations"],
        summary="The AsyncAPI document of the events on the bus",
    )
    async def asyncapi() -> dict[str, Any]:
        return _asyncapi()


def document_idempotency_key(app: FastAPI) -> None:
    """Every state-changing operation of the app's OpenAPI document names the header."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        for methods in document.get("paths", {}).values():
            for method, operation in methods.items():
                if method.upper() not in STATE_CHANGING:
                    continue
                parameters = operation.setdefault("parameters", [])
                if any(p.get("name") == HEADER and p.get("in") == "header" for p in parameters):
                    continue
                parameters.append(
                    {
                        "name": HEADER,
                        "in": "header",
                        "required": False,
                        "description": (
                            "Made up by the client once per change (a UUID is best) and sent "
                            "again with every retry of it: a retry answers what the first "
                            "attempt answered, and does nothing again."
                        ),
                        "schema": {"type": "string", "minLength": MIN_KEY, "maxLength": MAX_KEY},
                    }
                )
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]

"""Every page of the console, and its error pages."""

from fastapi import FastAPI

from console.entrypoints import (
    http_care,
    http_field,
    http_health,
    http_oversight,
    http_plan,
    http_reports,
    http_sign_in,
)
from console.entrypoints.web import install_error_pages, install_validation_page


def install(app: FastAPI) -> None:
    install_error_pages(app)
    install_validation_page(app)
    for module in (
        http_health,
        http_sign_in,
        http_field,
        http_care,
        http_plan,
        http_oversight,
        http_reports,
    ):
        app.include_router(module.router)

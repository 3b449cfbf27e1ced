"""Structured JSON logs carrying the correlation and causation ids of the work in hand."""

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import structlog


def configure_logging(service: str, level: str = "INFO", *, as_json: bool = True) -> None:
    """One JSON object per line on stderr, with the service name and any bound context ids."""
    renderer: Any = (
        structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.bind_contextvars(service=service)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)  # type: ignore[no-any-return]


@contextmanager
def log_context(
    *,
    correlation_id: UUID | str | None = None,
    causation_id: UUID | str | None = None,
    **extra: Any,
) -> Iterator[None]:
    """Bind ids for the duration of one request or one handled message."""
    values = {k: str(v) for k, v in extra.items() if v is not None}
    if correlation_id is not None:
        values["correlation_id"] = str(correlation_id)
    if causation_id is not None:
        values["causation_id"] = str(causation_id)
    with structlog.contextvars.bound_contextvars(**values):
        yield

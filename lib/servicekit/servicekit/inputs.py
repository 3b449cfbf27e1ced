"""Dates and instants in requests, read as the services' OpenAPI documents promise: ISO 8601
text. Pydantic's lax mode would also read a number as days or seconds since 1970, a spelling
no document offers and no client means (the fuzz of issue 7 found `"release_signed_on": 0`
taken as 1970-01-01)."""

from datetime import date
from typing import Annotated

from pydantic import AwareDatetime, BeforeValidator


def iso_8601_only(value: object) -> object:
    """Refuses a number, or text that is one; anything else goes on to the type's own parsing."""
    if isinstance(value, bool):
        return value
    numeric = isinstance(value, int | float)
    if isinstance(value, str):
        try:
            float(value)
            numeric = True
        except ValueError:
            pass
    if numeric:
        raise ValueError("give it in ISO 8601, e.g. 2026-11-25 or 2026-11-25T12:00:00Z")
    return value


IsoDate = Annotated[date, BeforeValidator(iso_8601_only)]
IsoInstant = Annotated[AwareDatetime, BeforeValidator(iso_8601_only)]

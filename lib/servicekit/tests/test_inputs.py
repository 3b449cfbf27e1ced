"""Dates and instants in requests are ISO 8601 text, as the OpenAPI documents say; a number is
refused, not read as days or seconds since 1970."""

from datetime import UTC, date, datetime

import pytest
from pydantic import BaseModel, ValidationError

from servicekit.inputs import IsoDate, IsoInstant


class Visit(BaseModel):
    on: IsoDate
    at: IsoInstant


def test_iso_8601_text_is_read() -> None:
    visit = Visit.model_validate({"on": "2026-11-25", "at": "2026-11-25T12:00:00Z"})
    assert visit.on == date(2026, 11, 25)
    assert visit.at == datetime(2026, 11, 25, 12, tzinfo=UTC)


@pytest.mark.parametrize("number", [0, 0.5, 1764072000, "0", "1764072000.5"])
def test_a_number_is_refused_for_a_date_or_an_instant(number: object) -> None:
    with pytest.raises(ValidationError, match="ISO 8601"):
        Visit.model_validate({"on": number, "at": "2026-11-25T12:00:00Z"})
    with pytest.raises(ValidationError, match="ISO 8601"):
        Visit.model_validate({"on": "2026-11-25", "at": number})

"""What casework reads from a command's JSON: dates and instants as ISO 8601 text, as its OpenAPI
document says, never a number read as days or seconds since 1970 (found by the fuzz, issue 7)."""

import pytest
from pydantic import BaseModel, ValidationError

from casework.entrypoints.command_schemas import ArrestIn, ContactIn, IntakeAssessmentIn
from casework.entrypoints.consent_schemas import ReleaseIn, RevocationIn, SignatureIn


@pytest.mark.parametrize(
    ("model", "body", "field", "text"),
    [
        (IntakeAssessmentIn, {"needs": ["housing"]}, "release_signed_on", "2026-01-02"),
        (ContactIn, {"method": "in_person"}, "contacted_at", "2026-01-02T03:04:05Z"),
        (ArrestIn, {}, "arrested_on", "2026-01-02"),
        (SignatureIn, {}, "signed_on", "2026-01-02"),
        (ReleaseIn, {}, "expires_at", "2027-01-02T00:00:00Z"),
        (RevocationIn, {"method": "in_writing"}, "revoked_at", "2026-01-02T03:04:05Z"),
    ],
)
def test_a_date_given_as_a_number_is_refused(
    model: type[BaseModel], body: dict[str, object], field: str, text: str
) -> None:
    with pytest.raises(ValidationError, match="ISO 8601"):
        model.model_validate({**body, field: 0})
    model.model_validate({**body, field: text})

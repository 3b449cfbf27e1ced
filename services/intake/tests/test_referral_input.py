"""What intake reads from a referral's JSON: its dates as ISO 8601 text, as its OpenAPI document
says, never a number read as days or seconds since 1970 (found by the fuzz, issue 7)."""

from typing import Any

import pytest
from pydantic import ValidationError

from intake.entrypoints.schemas import ReferralIn
from tests.referrals import referral_body


def test_the_test_referral_is_read() -> None:
    assert ReferralIn.model_validate(referral_body()).person.given_name == "Sam"


@pytest.mark.parametrize(
    ("part", "field"),
    [
        ("person", "date_of_birth"),
        ("offence", "occurred_at"),
        ("screening", "prior_area_activity_on"),
    ],
)
def test_a_date_given_as_a_number_is_refused(part: str, field: str) -> None:
    body: dict[str, Any] = referral_body()
    body[part][field] = 0
    with pytest.raises(ValidationError, match="ISO 8601"):
        ReferralIn.model_validate(body)

"""A new case goes to the case manager with the fewest open cases."""

import pytest

from casework.domain.assignment import NoCaseManagers, least_loaded


def test_the_least_loaded_case_manager_takes_the_case() -> None:
    assert least_loaded(["ava", "ben", "cy"], {"ava": 4, "ben": 2, "cy": 3}) == "ben"


def test_case_managers_with_no_cases_count_as_zero() -> None:
    assert least_loaded(["ava", "ben"], {"ava": 1}) == "ben"


def test_ties_go_to_the_earlier_name_in_the_roster() -> None:
    assert least_loaded(["cy", "ava"], {}) == "cy"


def test_an_agency_without_case_managers_is_an_error_not_a_silent_drop() -> None:
    with pytest.raises(NoCaseManagers):
        least_loaded([], {})

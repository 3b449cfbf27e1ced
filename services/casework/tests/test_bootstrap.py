"""Casework refuses to start on a site profile it cannot use."""

from pathlib import Path

import pytest

from casework.bootstrap import create_app
from casework.settings import CaseworkSettings
from servicekit.profiles import ProfileError
from tests.profiles import customised_profiles


def test_casework_refuses_to_start_on_a_profile_that_breaks_its_cap(tmp_path: Path) -> None:
    broken = customised_profiles(
        tmp_path / "profiles",
        {"pontiac.toml": {'intake_window = "P14D"': 'intake_window = "P45D"'}},
    )
    with pytest.raises(ProfileError, match="intake_window"):
        create_app(CaseworkSettings(profiles_dir=broken))


def test_casework_refuses_to_start_without_profiles(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="no site profiles"):
        create_app(CaseworkSettings(profiles_dir=tmp_path))

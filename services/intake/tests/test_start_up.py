"""Intake refuses to start on a bad site profile, and says which file, which field, what to do."""

import subprocess
import sys
from pathlib import Path

import pytest

from intake.bootstrap import create_app
from intake.settings import IntakeSettings
from servicekit.profiles import ProfileError
from tests.profiles import SHIPPED_PROFILES, customised_profiles

LONG_WINDOW = {"pontiac.toml": {'intake_window = "P14D"': 'intake_window = "P31D"'}}


def test_the_app_is_not_built_on_a_profile_over_its_legal_cap(tmp_path: Path) -> None:
    profiles = customised_profiles(tmp_path / "profiles", LONG_WINDOW)
    with pytest.raises(ProfileError, match=r"pontiac\.toml: refused\n  intake_window of 31 days"):
        create_app(IntakeSettings(profiles_dir=profiles, auth_local_key_path=tmp_path / "k.pem"))


def run(*args: str, profiles: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "intake.entrypoints.cli", *args],
        env={"OFFRAMP_PROFILES_DIR": str(profiles), "OFFRAMP_LOG_JSON": "false"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_serve_exits_with_the_profile_error_instead_of_starting(tmp_path: Path) -> None:
    profiles = customised_profiles(tmp_path / "profiles", LONG_WINDOW)
    result = run("serve", profiles=profiles)
    assert result.returncode == 2
    assert "offramp-intake: not started:" in result.stderr
    assert str(profiles / "pontiac.toml") in result.stderr
    assert "shorten intake_window or correct the cap" in result.stderr


def test_the_profiles_command_lists_every_valid_version(tmp_path: Path) -> None:
    result = run("profiles", profiles=SHIPPED_PROFILES)
    assert result.returncode == 0, result.stderr
    assert "oakland-county\t2026.1\tin force from 2026-07-01" in result.stdout
    assert "pontiac\t2026.1\tin force from 2026-01-01" in result.stdout

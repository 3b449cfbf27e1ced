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


INFORMANT_RULE = '[[rules]]\nrule = "confidential_informant"\n\n'


def test_a_site_cannot_start_intake_without_the_informant_rule(tmp_path: Path) -> None:
    """An operator who drops the informant rule finds out at start, not when an informant is
    admitted: LEAD is never an informant programme."""
    profiles = customised_profiles(tmp_path / "profiles", {"pontiac.toml": {INFORMANT_RULE: ""}})
    result = run("serve", profiles=profiles)
    assert result.returncode == 2
    assert str(profiles / "pontiac.toml") in result.stderr
    assert (
        "the confidential_informant rule is missing for arrest_diversion, social_contact "
        "referrals: LEAD is never an informant programme" in result.stderr
    )


def test_a_site_cannot_start_intake_admitting_minors_where_the_law_forbids_it(
    tmp_path: Path,
) -> None:
    profiles = customised_profiles(
        tmp_path / "profiles", {"pontiac.toml": {'[[rules]]\nrule = "under_18"\n\n': ""}}
    )
    result = run("serve", profiles=profiles)
    assert result.returncode == 2
    assert str(profiles / "pontiac.toml") in result.stderr
    assert "the under_18 rule is missing" in result.stderr
    assert "legal caps forbid diverting a person under 18 (caps.adults_only)" in result.stderr

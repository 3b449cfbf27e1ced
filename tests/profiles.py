"""Site profiles for tests: the shipped ones, or a copy with durations cut to seconds."""

from collections.abc import Mapping
from pathlib import Path

SHIPPED_PROFILES = Path(__file__).resolve().parents[1] / "deploy" / "profiles"


def customised_profiles(directory: Path, changes: Mapping[str, Mapping[str, str]]) -> Path:
    """A copy of the shipped site profiles in `directory`, with text replaced per file, e.g.
    `{"pontiac.toml": {'intake_window = "P14D"': "intake_window = 3"}}` for a 3-second window."""
    directory.mkdir(parents=True, exist_ok=True)
    for shipped in SHIPPED_PROFILES.glob("*.toml"):
        text = shipped.read_text()
        for old, new in changes.get(shipped.name, {}).items():
            assert old in text, f"{old!r} is not in {shipped.name}: the test is out of date"
            text = text.replace(old, new)
        (directory / shipped.name).write_text(text)
    return directory

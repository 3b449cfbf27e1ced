"""Site profiles read from `deploy/profiles/*.toml`, validated when a service starts.

Every file is one version of one jurisdiction's policy. All versions stay loaded: a referral is
decided under the version in force, and a case keeps the version it started under for its whole
life, so an old version is needed for as long as its cases run.
"""

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from offramp_contracts.profile import RULE_NAMES, AgencyKind, SiteProfile


class ProfileError(ValueError):
    """A profile that cannot be used, with the file, the field and what to do about it."""


class UnknownProfile(LookupError):
    """No profile for a jurisdiction (or for one of its versions)."""


@dataclass(frozen=True)
class ProfileBook:
    """Every loaded version of every jurisdiction's profile."""

    profiles: Mapping[tuple[str, str], SiteProfile]

    @property
    def jurisdictions(self) -> frozenset[str]:
        return frozenset(jurisdiction for jurisdiction, _ in self.profiles)

    def in_force(self, jurisdiction: str, on: date) -> SiteProfile:
        """The version with the latest `effective_from` on or before `on`."""
        candidates = [
            profile
            for (name, _), profile in self.profiles.items()
            if name == jurisdiction and profile.effective_from <= on
        ]
        if not candidates:
            raise UnknownProfile(f"no site profile for {jurisdiction!r} is in force on {on}")
        return max(candidates, key=lambda profile: profile.effective_from)

    def agency_kind(self, jurisdiction: str, agency: str, on: date) -> AgencyKind | None:
        """What kind of agency `agency` is in `jurisdiction` by the profile in force `on`; None
        when no profile is in force or it does not name the agency."""
        try:
            return self.in_force(jurisdiction, on).agencies.kind_of(agency)
        except UnknownProfile:
            return None

    def version(self, jurisdiction: str, version: str) -> SiteProfile:
        try:
            return self.profiles[(jurisdiction, version)]
        except KeyError:
            raise UnknownProfile(
                f"no site profile {jurisdiction!r} version {version!r} is loaded; keep every "
                "version that running cases started under in the profiles directory"
            ) from None


def load_profiles(directory: Path) -> ProfileBook:
    """Reads and validates every `*.toml` file in `directory`; refuses the lot if one is bad."""
    files = sorted(directory.glob("*.toml")) if directory.is_dir() else []
    if not files:
        raise ProfileError(
            f"{directory}: no site profiles (*.toml) found; point OFFRAMP_PROFILES_DIR at the "
            "directory holding them (deploy/profiles in the repository)"
        )
    return book_of(load_profile(path) for path in files)


def book_of(profiles: Iterable[tuple[Path, SiteProfile]]) -> ProfileBook:
    loaded: dict[tuple[str, str], SiteProfile] = {}
    origin: dict[tuple[str, str], Path] = {}
    for path, profile in profiles:
        if profile.key in loaded:
            raise ProfileError(
                f"{path}: version: {profile.jurisdiction} version {profile.version!r} is also "
                f"defined in {origin[profile.key]}. Fix: give the newer file a new version"
            )
        loaded[profile.key] = profile
        origin[profile.key] = path
    return ProfileBook(MappingProxyType(loaded))


def load_profile(path: Path) -> tuple[Path, SiteProfile]:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(f"{path}: not valid TOML ({error}). Fix: correct the syntax") from None
    try:
        return path, SiteProfile.model_validate(document)
    except ValidationError as error:
        problems = "\n".join(f"  {_describe(detail, document)}" for detail in error.errors())
        raise ProfileError(f"{path}: refused\n{problems}") from None


def _describe(detail: ErrorDetails, document: Mapping[str, Any]) -> str:
    field = _field_name(detail["loc"], document)
    message = detail["msg"].removeprefix("Value error, ")
    if detail["type"] == "union_tag_invalid":
        message = f"unknown rule {detail.get('ctx', {}).get('tag')!r}"
    if not field:  # a rule about the whole profile: its message names the fields and the fix
        return message
    return f"{field}: {message}. Fix: {_fix(detail)}"


def _field_name(loc: tuple[int | str, ...], document: Mapping[str, Any]) -> str:
    parts: list[str] = []
    node: Any = document
    for step in loc:
        if isinstance(step, int):
            parts[-1] += f"[{step}]"
            node = node[step] if isinstance(node, list) and 0 <= step < len(node) else None
        elif isinstance(node, Mapping) and node.get("rule") == step and step not in node:
            continue  # pydantic adds the discriminator's value (`drug_quantity`) as a step
        else:
            parts.append(step)
            node = node.get(step) if isinstance(node, Mapping) else None
    return ".".join(parts)


def _fix(detail: ErrorDetails) -> str:
    kind = detail["type"]
    if kind == "missing":
        return "add it"
    if kind == "extra_forbidden":
        return "remove it, or correct its spelling"
    if kind in {"union_tag_invalid", "union_tag_not_found"}:
        return f"name one of the known rules: {', '.join(RULE_NAMES)}"
    if kind.startswith("time_delta"):
        return 'write a duration as ISO 8601 (e.g. "P14D" or "PT30S") or a number of seconds'
    if kind in {"date_from_datetime_parsing", "date_parsing", "date_type"}:
        return "write a date as YYYY-MM-DD"
    if kind == "literal_error":
        expected = detail.get("ctx", {}).get("expected")
        return f"use one of {expected}" if expected else "use one of the allowed values"
    return "correct the value"

"""A signed-in person's session: their own token, who it says they are, and until when it
holds. Pure: the clock is passed in."""

from dataclasses import dataclass
from typing import Any

HOME_OF_ROLE: dict[str, str] = {
    "officer": "/officer",
    "prosecutor": "/reviews",
    "case_manager": "/caseload",
    "supervisor": "/roster",
    "public_defender": "/clients",
    "auditor": "/ledger",
    "operator": "/operations",
    "analyst": "/reports",
}
"""The first page each role sees; a person holding several roles starts at the first listed."""


@dataclass(frozen=True)
class Session:
    token: str
    subject: str
    name: str
    agency: str
    jurisdiction: str
    roles: frozenset[str]
    expires_at: float

    def expired(self, now: float) -> bool:
        return now >= self.expires_at

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def home(self) -> str:
        return next((page for role, page in HOME_OF_ROLE.items() if role in self.roles), "/inbox")

    def to_cookie(self) -> dict[str, Any]:
        return {
            "t": self.token,
            "s": self.subject,
            "n": self.name,
            "a": self.agency,
            "j": self.jurisdiction,
            "r": sorted(self.roles),
            "e": self.expires_at,
        }

    @classmethod
    def from_cookie(cls, data: dict[str, Any]) -> "Session":
        return cls(
            token=str(data["t"]),
            subject=str(data["s"]),
            name=str(data["n"]),
            agency=str(data["a"]),
            jurisdiction=str(data["j"]),
            roles=frozenset(str(r) for r in data["r"]),
            expires_at=float(data["e"]),
        )


def ends_at(*, now: float, token_expires_at: float | None, max_age_seconds: int) -> float:
    """A session ends when its token does or after the console's maximum age, whichever is first."""
    limit = now + max_age_seconds
    return min(limit, token_expires_at) if token_expires_at is not None else limit

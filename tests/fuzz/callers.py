"""Who the fuzzer speaks as: staff of every role and agency that the seeded data involves, staff
whose role or place should get them nowhere, and callers with no usable token at all."""

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from servicekit.auth import LocalIssuer

CM_AGENCY = "pontiac-case-management"


@dataclass(frozen=True)
class Caller:
    name: str
    authorization: str | None = field(repr=False)
    # Holds a valid token of this deployment: without one, only public endpoints may answer 2xx.
    authenticated: bool = True

    def headers(self) -> dict[str, str]:
        return {"Authorization": self.authorization} if self.authorization else {}


# (name, subject, role, agency, jurisdiction). The first six are who the seeded data belongs to.
STAFF = (
    ("officer", "officer-7", "officer", "pontiac-pd", "pontiac"),
    ("prosecutor", "ada-1", "prosecutor", "oakland-prosecutor", "pontiac"),
    ("case-manager", "cm-1", "case_manager", CM_AGENCY, "pontiac"),
    ("supervisor", "sup-1", "supervisor", CM_AGENCY, "pontiac"),
    ("auditor", "auditor-1", "auditor", "county-audit", "pontiac"),
    ("operator", "it-1", "operator", "county-it", "pontiac"),
    ("public-defender", "pd-1", "public_defender", "oakland-defender", "pontiac"),
    ("analyst", "an-1", "analyst", "county-analysis", "pontiac"),
    ("officer-elsewhere", "officer-3", "officer", "waterford-pd", "pontiac"),
    ("supervisor-elsewhere", "sup-9", "supervisor", "oakland-community-health", "oakland-county"),
    ("officer-other-county", "officer-9", "officer", "detroit-pd", "detroit"),
)


def callers(issuer: LocalIssuer) -> tuple[Caller, ...]:
    staff = tuple(
        Caller(
            name,
            "Bearer "
            + issuer.issue(subject=sub, roles=[role], agency=agency, jurisdiction=jurisdiction),
        )
        for name, sub, role, agency, jurisdiction in STAFF
    )
    no_roles = issuer.issue(subject="nobody", roles=[], agency="pontiac-pd", jurisdiction="pontiac")
    expired = issuer.issue(
        subject="officer-7",
        roles=["officer"],
        agency="pontiac-pd",
        jurisdiction="pontiac",
        ttl_seconds=-120,
    )
    with tempfile.TemporaryDirectory() as elsewhere:
        forger = LocalIssuer(
            Path(elsewhere) / "key.pem", issuer="offramp-local", audience="offramp"
        )
        forged = forger.issue(
            subject="auditor-1", roles=["auditor"], agency="county-audit", jurisdiction="pontiac"
        )
    return (
        *staff,
        Caller("no-roles", "Bearer " + no_roles),
        Caller("anonymous", None, authenticated=False),
        Caller("garbage-token", "Bearer not.a.token", authenticated=False),
        Caller("expired-token", "Bearer " + expired, authenticated=False),
        Caller("forged-token", "Bearer " + forged, authenticated=False),
        Caller("basic-auth", "Basic b2ZmaWNlci03OnB3", authenticated=False),
    )

"""Who the fuzzer speaks as: staff of every role and agency that the seeded data involves, staff
whose role or place should get them nowhere, and callers with no usable token at all."""

import base64
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import jwt

from servicekit.auth import LocalIssuer
from tests.edge.keys import private_key_for, staff_claims

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
        *_mixed(issuer),
        *_unusable(issuer),
        Caller("no-roles", "Bearer " + no_roles),
        Caller("anonymous", None, authenticated=False),
        Caller("garbage-token", "Bearer not.a.token", authenticated=False),
        Caller("expired-token", "Bearer " + expired, authenticated=False),
        Caller("forged-token", "Bearer " + forged, authenticated=False),
        Caller("basic-auth", "Basic b2ZmaWNlci03OnB3", authenticated=False),
    )


# Tokens of issue 14: several roles at once, and a supervisor of a police agency. Valid tokens:
# the gates, not the verifier, must keep them from care details.
MIXED = (
    ("case-manager-and-officer", "cm-1", ["case_manager", "officer"], CM_AGENCY),
    ("officer-and-case-manager", "officer-7", ["officer", "case_manager"], "pontiac-pd"),
    ("police-supervisor", "sgt-1", ["supervisor"], "pontiac-pd"),
)


def _mixed(issuer: LocalIssuer) -> tuple[Caller, ...]:
    return tuple(
        Caller(
            name,
            "Bearer "
            + issuer.issue(subject=sub, roles=roles, agency=agency, jurisdiction="pontiac"),
        )
        for name, sub, roles, agency in MIXED
    )


def _unusable(issuer: LocalIssuer) -> tuple[Caller, ...]:
    """Tokens the door must refuse with a 401, never a 5xx: algorithms the Ed25519 key cannot
    verify, a header that is not UTF-8, claims outside the contracts' bounds, a century-long
    lifetime (the last two signed with the deployment's own key)."""
    foreign = {
        f"{algorithm.lower()}-token": jwt.encode(
            staff_claims(), private_key_for(algorithm), algorithm=algorithm
        )
        for algorithm in ("RS256", "ES256", "PS512", "HS256", "ES256K")
    }
    not_utf8 = base64.urlsafe_b64encode(bytes([0xB7, 0xFF])).rstrip(b"=").decode()
    now = int(time.time())
    own = {
        "overlong-subject": {"subject": "x" * 201},
        "overlong-agency": {"agency": "a" * 201},
    }
    signed = {
        name: issuer.issue(
            subject=str(changes.get("subject", "officer-7")),
            roles=["officer"],
            agency=str(changes.get("agency", "pontiac-pd")),
            jurisdiction="pontiac",
        )
        for name, changes in own.items()
    }
    century = issuer.issue(
        subject="officer-7",
        roles=["officer"],
        agency="pontiac-pd",
        jurisdiction="pontiac",
        ttl_seconds=100 * 365 * 86400,
    )
    tokens = {
        **foreign,
        **signed,
        "century-token": century,
        "not-utf8-header": f"{not_utf8}.e30.{not_utf8}",
        # PyJWT reads an empty key as no key for "none" (and types the key as never None).
        "alg-none": jwt.encode(staff_claims(iat=now), "", algorithm="none"),
    }
    return tuple(
        Caller(name, "Bearer " + token, authenticated=False) for name, token in tokens.items()
    )

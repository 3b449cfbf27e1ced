"""Bearer-token identity: what the local issuer signs verifies to a principal; anything expired,
foreign, tampered with or incomplete is refused."""

import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from servicekit.auth import AuthenticationError, LocalIssuer, Principal, TokenVerifier

ISSUER = "offramp-local"
AUDIENCE = "offramp"


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    return tmp_path / "issuer.pem"


@pytest.fixture
def issuer(key_path: Path) -> LocalIssuer:
    return LocalIssuer(key_path, issuer=ISSUER, audience=AUDIENCE)


@pytest.fixture
def verifier(issuer: LocalIssuer) -> TokenVerifier:
    return TokenVerifier(issuer=ISSUER, audience=AUDIENCE, public_key=issuer.public_key)


def _sign(key_path: Path, claims: dict[str, Any]) -> str:
    """A token signed with the local issuer's own key, with whatever claims the test wants."""
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return jwt.encode(claims, key, algorithm="EdDSA")


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "cm-4",
        "iat": now,
        "exp": now + 600,
        "roles": ["case_manager"],
        "agency": "oakland-cmh",
        "jurisdiction": "pontiac",
    }
    for name, value in changes.items():
        if value is None:
            claims.pop(name)
        else:
            claims[name] = value
    return claims


def test_a_token_from_the_local_issuer_verifies_to_its_principal(
    issuer: LocalIssuer, verifier: TokenVerifier
) -> None:
    token = issuer.issue(
        subject="officer-17",
        roles=["officer", "supervisor"],
        agency="oakland-sheriff",
        jurisdiction="pontiac",
    )

    principal = verifier.verify(token)

    assert principal == Principal(
        subject="officer-17",
        agency="oakland-sheriff",
        jurisdiction="pontiac",
        roles=frozenset({"officer", "supervisor"}),
    )
    assert principal.has_role("supervisor", "auditor")
    assert not principal.has_role("auditor")
    actor = principal.acting_as("officer")
    assert (actor.subject, actor.agency, actor.role) == ("officer-17", "oakland-sheriff", "officer")


def test_the_issuer_key_is_kept_so_a_restart_verifies_earlier_tokens(
    issuer: LocalIssuer, key_path: Path
) -> None:
    token = issuer.issue(subject="a", roles=["auditor"], agency="audit", jurisdiction="pontiac")
    again = LocalIssuer(key_path, issuer=ISSUER, audience=AUDIENCE)

    verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE, public_key=again.public_key)
    assert verifier.verify(token).subject == "a"
    assert key_path.stat().st_mode & 0o077 == 0, "the private key is readable by its owner only"


def test_an_expired_token_is_refused(issuer: LocalIssuer, verifier: TokenVerifier) -> None:
    token = issuer.issue(
        subject="a", roles=["officer"], agency="x", jurisdiction="pontiac", ttl_seconds=-5
    )
    with pytest.raises(AuthenticationError, match=r"(?i)expired"):
        verifier.verify(token)


def test_a_token_from_another_issuer_is_refused(key_path: Path, verifier: TokenVerifier) -> None:
    foreign = LocalIssuer(key_path, issuer="someone-else", audience=AUDIENCE)
    token = foreign.issue(subject="a", roles=["officer"], agency="x", jurisdiction="pontiac")
    with pytest.raises(AuthenticationError, match=r"(?i)issuer"):
        verifier.verify(token)


def test_a_token_for_another_audience_is_refused(key_path: Path, verifier: TokenVerifier) -> None:
    other = LocalIssuer(key_path, issuer=ISSUER, audience="another-system")
    token = other.issue(subject="a", roles=["officer"], agency="x", jurisdiction="pontiac")
    with pytest.raises(AuthenticationError, match=r"(?i)audience"):
        verifier.verify(token)


def test_a_token_signed_with_another_key_is_refused(
    tmp_path: Path, verifier: TokenVerifier
) -> None:
    impostor = LocalIssuer(tmp_path / "impostor.pem", issuer=ISSUER, audience=AUDIENCE)
    token = impostor.issue(subject="a", roles=["officer"], agency="x", jurisdiction="pontiac")
    with pytest.raises(AuthenticationError, match=r"(?i)signature"):
        verifier.verify(token)


def test_an_unsigned_token_is_refused(verifier: TokenVerifier) -> None:
    token = jwt.encode(_claims(), key="", algorithm="none")
    with pytest.raises(AuthenticationError):
        verifier.verify(token)


@pytest.mark.parametrize("missing", ["exp", "sub", "aud", "iss", "roles", "agency", "jurisdiction"])
def test_a_token_missing_a_claim_is_refused(
    key_path: Path, verifier: TokenVerifier, missing: str
) -> None:
    with pytest.raises(AuthenticationError):
        verifier.verify(_sign(key_path, _claims(**{missing: None})))


@pytest.mark.parametrize(
    "claim, value",
    [("roles", "officer"), ("roles", [1]), ("agency", ""), ("jurisdiction", 7)],
)
def test_a_token_with_a_malformed_claim_is_refused(
    key_path: Path, verifier: TokenVerifier, claim: str, value: object
) -> None:
    with pytest.raises(AuthenticationError):
        verifier.verify(_sign(key_path, _claims(**{claim: value})))


@pytest.mark.parametrize("garbage", ["", "not-a-token", "a.b.c", "eyJhbGciOiJFZERTQSJ9.e30."])
def test_garbage_is_refused(verifier: TokenVerifier, garbage: str) -> None:
    with pytest.raises(AuthenticationError):
        verifier.verify(garbage)


def test_a_signed_token_cannot_grant_unknown_roles_or_the_system_role(
    key_path: Path, verifier: TokenVerifier
) -> None:
    token = _sign(key_path, _claims(roles=["case_manager", "system", "root"]))
    assert verifier.verify(token).roles == frozenset({"case_manager"})


@pytest.mark.parametrize("roles", [["root"], ["officer", "wizard"], ["system"]])
def test_unknown_roles_are_refused_at_issue(issuer: LocalIssuer, roles: list[str]) -> None:
    with pytest.raises(ValueError, match="unknown role"):
        issuer.issue(subject="a", roles=roles, agency="x", jurisdiction="pontiac")


def test_a_verifier_needs_exactly_one_source_of_keys(issuer: LocalIssuer) -> None:
    with pytest.raises(ValueError):
        TokenVerifier(issuer=ISSUER, audience=AUDIENCE)
    with pytest.raises(ValueError):
        TokenVerifier(
            issuer=ISSUER,
            audience=AUDIENCE,
            public_key=issuer.public_key,
            jwks_url="https://idp.example/jwks",
        )

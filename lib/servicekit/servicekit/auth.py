"""Bearer-JWT identity: who is asking, for which agency and jurisdiction, in which roles.

Production verifies tokens from the county's OIDC provider through its JWKS URL. The embedded
default runs a local issuer: an Ed25519 key on disk that `offramp-token` signs with.
"""

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from offramp_contracts.envelope import JURISDICTION_PATTERN, Actor, Role

ROLES: frozenset[str] = frozenset(get_args(Role)) - {"system"}
# Roles of law enforcement (DESIGN.md rule 7): a token holding one of them never passes a gate
# for care staff, whatever else it holds (issue 14).
LAW_ENFORCEMENT_ROLES: frozenset[str] = frozenset({"officer", "prosecutor"})


class AuthenticationError(Exception):
    """The request carries no usable token (401)."""


class AuthorizationError(Exception):
    """The token is valid but its holder may not do this (403)."""


@dataclass(frozen=True)
class Principal:
    subject: str
    agency: str
    jurisdiction: str
    roles: frozenset[str]

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def acting_as(self, role: str) -> Actor:
        return Actor(subject=self.subject, agency=self.agency, role=role)


# What a key can verify, by its type: a token whose header names any other algorithm is refused
# before PyJWT is asked (PyJWT raises TypeError, not its own error, for an RSA or EC algorithm
# over an Ed25519 key: issue 14).
_EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
_RSA_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})

# The claims' bounds are the event contracts' own (Actor, Accessor): a principal that passes the
# door can always be named in an event, including the AccessDenied of its own refusal.
MAX_NAME_LENGTH = 200
MAX_ROLES = 32
DEFAULT_MAX_LIFETIME_SECONDS = 12 * 3600

# Short reasons for what PyJWT refuses: its own messages can quote the token's bytes or the
# library's internals, which a caller has no use for (issue 14).
_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, "the token has expired"),
    (jwt.ImmatureSignatureError, "the token is not valid yet"),
    (jwt.InvalidAudienceError, "the token is for another audience"),
    (jwt.InvalidIssuerError, "the token is from another issuer"),
    (jwt.InvalidSignatureError, "the token's signature does not verify"),
    (jwt.MissingRequiredClaimError, "the token lacks a required claim (exp, iss, sub, aud)"),
    (jwt.InvalidAlgorithmError, "the token's algorithm is not accepted"),
    (jwt.PyJWKClientError, "no key of the identity provider matches the token"),
)


def algorithms_for(key: object) -> frozenset[str]:
    """The JWS algorithms that `key` can verify (empty for a key Offramp does not accept)."""
    if isinstance(key, Ed25519PublicKey | Ed448PublicKey):
        return frozenset({"EdDSA"})
    if isinstance(key, RSAPublicKey):
        return _RSA_ALGORITHMS
    if isinstance(key, EllipticCurvePublicKey):
        algorithm = _EC_ALGORITHMS.get(key.curve.name)
        return frozenset({algorithm}) if algorithm else frozenset()
    return frozenset()


def _reason(error: Exception) -> str:
    for kind, reason in _REASONS:
        if isinstance(error, kind):
            return reason
    return "the token is not a well-formed signed JWT"


class TokenVerifier:
    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        public_key: Ed25519PublicKey | None = None,
        jwks_url: str | None = None,
        max_lifetime_seconds: int = DEFAULT_MAX_LIFETIME_SECONDS,
    ) -> None:
        if (public_key is None) == (jwks_url is None):
            raise ValueError("configure exactly one of a local public key or a JWKS URL")
        self._issuer = issuer
        self._audience = audience
        self._public_key = public_key
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True) if jwks_url else None
        self._max_lifetime = max_lifetime_seconds

    def verify(self, token: str) -> Principal:
        claims = self._verified_claims(token)
        return _principal(claims)

    def _verified_claims(self, token: str) -> dict[str, Any]:
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
            key, accepted = self._key_for(token)
            if algorithm not in accepted:
                raise AuthenticationError(
                    f"invalid bearer token: the token's algorithm {str(algorithm)[:20]!r} is not "
                    f"one its key verifies ({', '.join(sorted(accepted)) or 'none'})"
                )
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                issuer=self._issuer,
                audience=self._audience,
                options={"require": ["exp", "iss", "sub", "aud"]},
            )
        except AuthenticationError:
            raise
        except Exception as error:
            # Whatever a token's bytes make PyJWT or cryptography raise, it is the token's fault.
            raise AuthenticationError(f"invalid bearer token: {_reason(error)}") from error
        self._check_lifetime(claims)
        return claims

    def _key_for(self, token: str) -> tuple[Any, frozenset[str]]:
        if self._jwks is None:
            return self._public_key, algorithms_for(self._public_key)
        signing_key = self._jwks.get_signing_key_from_jwt(token)
        accepted = algorithms_for(signing_key.key)
        # PyJWK keeps the published JWK but no public way to tell a declared `alg` from one it
        # inferred from the key type; the inferred one would refuse RS384 over an RSA key.
        declared = getattr(signing_key, "_jwk_data", {}).get("alg")
        if declared is not None:
            # A key published for one algorithm verifies that one only (RFC 7517 4.4).
            accepted &= {declared}
        return signing_key.key, accepted

    def _check_lifetime(self, claims: dict[str, Any]) -> None:
        expires = claims["exp"]
        issued = claims.get("iat")
        start = issued if isinstance(issued, int | float) else time.time()
        if expires - min(start, time.time()) > self._max_lifetime:
            raise AuthenticationError(
                "invalid bearer token: it lives longer than this deployment allows "
                f"({self._max_lifetime} s); ask for a shorter-lived one"
            )


def _principal(claims: dict[str, Any]) -> Principal:
    roles = claims.get("roles")
    agency = claims.get("agency")
    jurisdiction = claims.get("jurisdiction")
    subject = claims.get("sub")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise AuthenticationError("token has no 'roles' list")
    if len(roles) > MAX_ROLES:
        raise AuthenticationError(f"token's 'roles' list is longer than {MAX_ROLES}")
    for name, value in (("sub", subject), ("agency", agency)):
        if not isinstance(value, str) or not value.strip():
            raise AuthenticationError(f"token has no '{name}' claim")
        if len(value) > MAX_NAME_LENGTH:
            raise AuthenticationError(
                f"token's '{name}' claim is longer than {MAX_NAME_LENGTH} characters"
            )
    assert isinstance(subject, str) and isinstance(agency, str)
    if not isinstance(jurisdiction, str) or not jurisdiction:
        raise AuthenticationError("token has no 'jurisdiction' claim")
    if not re.fullmatch(JURISDICTION_PATTERN, jurisdiction):
        raise AuthenticationError(
            f"token's 'jurisdiction' claim {jurisdiction[:64]!r} is not a jurisdiction name "
            "(lowercase letters, digits and hyphens, as in the site profiles)"
        )
    return Principal(
        subject=subject,
        agency=agency,
        jurisdiction=jurisdiction,
        roles=frozenset(roles) & ROLES,
    )


class LocalIssuer:
    """The embedded default's token issuer; its key is created on first use and kept."""

    def __init__(self, key_path: Path, *, issuer: str, audience: str) -> None:
        self._issuer = issuer
        self._audience = audience
        self._key = _load_or_create_key(key_path)

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._key.public_key()

    def issue(
        self,
        *,
        subject: str,
        roles: list[str],
        agency: str,
        jurisdiction: str,
        ttl_seconds: int = 8 * 3600,
    ) -> str:
        unknown = set(roles) - ROLES
        if unknown:
            raise ValueError(f"unknown role(s) {sorted(unknown)}; choose from {sorted(ROLES)}")
        now = int(time.time())
        claims = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": subject,
            "iat": now,
            "exp": now + ttl_seconds,
            "roles": roles,
            "agency": agency,
            "jurisdiction": jurisdiction,
        }
        return jwt.encode(claims, self._key, algorithm="EdDSA")


def _load_or_create_key(path: Path) -> Ed25519PrivateKey:
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key")
        return key
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # Created readable by its owner only, and never committed (see .gitignore).
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key

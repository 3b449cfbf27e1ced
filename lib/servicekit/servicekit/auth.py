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
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from offramp_contracts.envelope import JURISDICTION_PATTERN, Actor, Role

ROLES: frozenset[str] = frozenset(get_args(Role)) - {"system"}


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


class TokenVerifier:
    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        public_key: Ed25519PublicKey | None = None,
        jwks_url: str | None = None,
    ) -> None:
        if (public_key is None) == (jwks_url is None):
            raise ValueError("configure exactly one of a local public key or a JWKS URL")
        self._issuer = issuer
        self._audience = audience
        self._public_key = public_key
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True) if jwks_url else None

    def verify(self, token: str) -> Principal:
        try:
            key: Any = (
                self._jwks.get_signing_key_from_jwt(token).key if self._jwks else self._public_key
            )
            claims = jwt.decode(
                token,
                key,
                algorithms=["EdDSA", "RS256", "ES256"],
                issuer=self._issuer,
                audience=self._audience,
                options={"require": ["exp", "iss", "sub", "aud"]},
            )
        except jwt.PyJWTError as error:
            raise AuthenticationError(f"invalid bearer token: {error}") from error
        roles = claims.get("roles")
        agency = claims.get("agency")
        jurisdiction = claims.get("jurisdiction")
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise AuthenticationError("token has no 'roles' list")
        if not isinstance(agency, str) or not agency:
            raise AuthenticationError("token has no 'agency' claim")
        if not isinstance(jurisdiction, str) or not jurisdiction:
            raise AuthenticationError("token has no 'jurisdiction' claim")
        if not re.fullmatch(JURISDICTION_PATTERN, jurisdiction):
            raise AuthenticationError(
                f"token's 'jurisdiction' claim {jurisdiction[:64]!r} is not a jurisdiction name "
                "(lowercase letters, digits and hyphens, as in the site profiles)"
            )
        return Principal(
            subject=str(claims["sub"]),
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

"""A key for every JWS algorithm PyJWT knows, and tokens signed with them, for the tests of what
the services' door lets through (issue 14)."""

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from jwt.algorithms import get_default_algorithms

ISSUER = "offramp-local"
AUDIENCE = "offramp"
EVERY_ALGORITHM: tuple[str, ...] = tuple(sorted(get_default_algorithms()))


def private_key_for(algorithm: str) -> Any:
    """A fresh signing key of the kind `algorithm` signs with."""
    if algorithm == "none":
        return None
    if algorithm.startswith("HS"):
        return b"a-shared-secret-long-enough-for-hs512-" * 2
    if algorithm.startswith(("RS", "PS")):
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    curves = {
        "ES256": ec.SECP256R1(),
        "ES256K": ec.SECP256K1(),
        "ES384": ec.SECP384R1(),
        "ES512": ec.SECP521R1(),
        "ES521": ec.SECP521R1(),
    }
    if algorithm in curves:
        return ec.generate_private_key(curves[algorithm])
    if algorithm == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    raise AssertionError(f"no key made for {algorithm}")


def staff_claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "officer-1",
        "iat": now,
        "exp": now + 600,
        "roles": ["officer"],
        "agency": "pontiac-pd",
        "jurisdiction": "pontiac",
    }
    for name, value in changes.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


def sign(algorithm: str, key: Any, *, kid: str | None = None, **changes: Any) -> str:
    headers = {"kid": kid} if kid else None
    return jwt.encode(staff_claims(**changes), key, algorithm=algorithm, headers=headers)


def public_jwk(key: Any, kid: str, alg: str | None = None) -> dict[str, Any]:
    public = key.public_key()
    kind = (
        jwt.algorithms.OKPAlgorithm
        if isinstance(public, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey)
        else jwt.algorithms.ECAlgorithm
        if isinstance(public, ec.EllipticCurvePublicKey)
        else jwt.algorithms.RSAAlgorithm
    )
    jwk: dict[str, Any] = json.loads(kind.to_jwk(public))
    jwk["kid"] = kid
    if alg:
        jwk["alg"] = alg
    return jwk


@dataclass(frozen=True)
class JwksServer:
    url: str


@contextmanager
def serve_jwks(keys: list[dict[str, Any]]) -> Iterator[JwksServer]:
    """A county identity provider's key set, served over HTTP on loopback."""
    body = json.dumps({"keys": keys}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield JwksServer(f"http://127.0.0.1:{server.server_address[1]}/jwks.json")
    finally:
        server.shutdown()
        server.server_close()

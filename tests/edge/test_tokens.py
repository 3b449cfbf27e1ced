"""What a token must be to pass the services' door, against the running service: exactly the
algorithms its configured key verifies, in local-key and in JWKS mode; every malformed token a
401 problem with a short reason that quotes no library; no token living longer than the cap;
claims within the bounds of the event contracts (issue 14, findings 1 and 2)."""

import base64
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from intake.bootstrap import create_app as intake_app
from intake.settings import IntakeSettings
from servicekit import token_cli
from tests.conftest import System, serve
from tests.edge.keys import EVERY_ALGORITHM, private_key_for, public_jwk, serve_jwks, sign

pytestmark = pytest.mark.services("intake")
PROBLEM = "application/problem+json"
# Words of PyJWT's, cryptography's and Python's own messages that a refusal must not repeat.
LIBRARY_TEXT = (
    "codec",
    "Traceback",
    "Error",
    "byte",
    "padding",
    "Expecting",
    "object at",
    "<class",
)


async def ask(url: str, token: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        return await client.get("/referrals", headers={"Authorization": f"Bearer {token}"})


def assert_refused(answer: httpx.Response, what: str) -> None:
    assert answer.status_code == 401, (what, answer.status_code, answer.text[:300])
    assert answer.headers["content-type"] == PROBLEM, what
    detail = answer.json()["detail"]
    assert len(detail) < 300, (what, detail)
    leaked = [word for word in LIBRARY_TEXT if word in detail]
    assert not leaked, (what, detail)


def local_key(system: System) -> Ed25519PrivateKey:
    path = system.services["intake"].runtime.settings.auth_local_key_path
    assert path is not None
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


def segment(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


MALFORMED = {
    "not a JWT": "not.a.token",
    "one segment": "abc",
    "header not UTF-8": f"{segment(bytes([0xB7, 0xFF]))}.{segment(b'{}')}.{segment(b'x')}",
    "header not JSON": f"{segment(b'{alg')}.{segment(b'{}')}.{segment(b'x')}",
    "header a list": f"{segment(b'[1]')}.{segment(b'{}')}.{segment(b'x')}",
    "payload not JSON": f"{segment(json.dumps({'alg': 'EdDSA'}).encode())}.{segment(b'{')}.x",
    "signature not base64": f"{segment(json.dumps({'alg': 'EdDSA'}).encode())}.e30.%%%",
    "alg a number": f"{segment(json.dumps({'alg': 7}).encode())}.e30.{segment(b'x')}",
}


async def test_the_local_key_accepts_eddsa_with_its_own_key_only(system: System) -> None:
    url = system.url("intake")
    assert (await ask(url, sign("EdDSA", local_key(system)))).status_code == 200
    for algorithm in EVERY_ALGORITHM:
        # Every other algorithm with a key of its own, and EdDSA with a stranger's key.
        assert_refused(await ask(url, sign(algorithm, private_key_for(algorithm))), algorithm)
    raw_public = (
        local_key(system)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    assert_refused(await ask(url, sign("HS256", raw_public)), "HS256 keyed by the public key")


async def test_every_malformed_token_is_a_short_401_problem(system: System) -> None:
    for what, token in MALFORMED.items():
        assert_refused(await ask(system.url("intake"), token), what)


async def test_a_token_living_longer_than_the_cap_is_refused(system: System) -> None:
    key, url = local_key(system), system.url("intake")
    now = int(time.time())
    century = now + 100 * 365 * 86400
    assert_refused(await ask(url, sign("EdDSA", key, exp=century)), "a 100-year token")
    assert_refused(await ask(url, sign("EdDSA", key, exp=century, iat=None)), "no iat")
    assert_refused(
        await ask(url, sign("EdDSA", key, iat=now - 13 * 3600, exp=now + 60)), "issued 13 h ago"
    )
    assert (await ask(url, sign("EdDSA", key, exp=now + 11 * 3600))).status_code == 200


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("sub", ""),
        ("sub", "x" * 201),
        ("agency", ""),
        ("agency", "a" * 201),
        ("agency", "   "),
        ("sub", 17),
        ("agency", ["pontiac-pd"]),
        ("roles", ["officer"] * 33),
        ("jurisdiction", "Pontiac!"),
    ],
)
async def test_claims_outside_the_event_contracts_are_refused_at_the_door(
    system: System, claim: str, value: Any
) -> None:
    """Else the refusal of such a caller could not be recorded (AccessDenied names them)."""
    key = local_key(system)
    assert_refused(await ask(system.url("intake"), sign("EdDSA", key, **{claim: value})), claim)
    async with httpx.AsyncClient(base_url=system.url("intake"), timeout=30) as client:
        answer = await client.post(
            "/referrals",
            json={},
            headers={"Authorization": f"Bearer {sign('EdDSA', key, **{claim: value})}"},
        )
    assert answer.status_code == 401, answer.text


async def test_claims_at_the_contracts_bounds_pass(system: System) -> None:
    token = sign("EdDSA", local_key(system), sub="s" * 200, agency="pontiac-pd")
    assert (await ask(system.url("intake"), token)).status_code == 200


def test_offramp_token_refuses_negative_zero_and_over_cap_lifetimes(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--sub", "o-1", "--role", "officer", "--agency", "pontiac-pd"]
    base += ["--jurisdiction", "pontiac", "--key", str(tmp_path / "k.pem")]
    for ttl in ("-120", "0", str(12 * 3600 + 1), str(100 * 365 * 86400)):
        with pytest.raises(SystemExit) as refused:
            token_cli.main([*base, "--ttl", ttl])
        assert refused.value.code == 2, ttl
        assert "1 to 43200 seconds" in capsys.readouterr().err
    assert token_cli.main([*base, "--ttl", "3600"]) == 0


# --- JWKS mode: the county's identity provider publishes RSA, EC and Ed25519 keys -----------

SIGNERS = {"rsa": "RS256", "ec": "ES256", "ed": "EdDSA", "rsa-pss-only": "PS384"}


@pytest.fixture
async def jwks_intake(servers: Any, isolation: Any) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    keys = {kid: private_key_for(algorithm) for kid, algorithm in SIGNERS.items()}
    published = [public_jwk(key, kid) for kid, key in keys.items() if kid != "rsa-pss-only"]
    published.append(public_jwk(keys["rsa-pss-only"], "rsa-pss-only", alg="PS384"))
    with serve_jwks(published) as jwks:
        settings = IntakeSettings(**isolation.settings(servers), auth_jwks_url=jwks.url)
        running = await serve("intake", intake_app(settings))
        try:
            yield running.url, keys
        finally:
            await running.stop()


async def test_jwks_mode_accepts_what_each_published_key_verifies(
    jwks_intake: tuple[str, dict[str, Any]],
) -> None:
    url, keys = jwks_intake
    accepted = {
        "rsa": {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"},
        "ec": {"ES256"},
        "ed": {"EdDSA"},
        "rsa-pss-only": {"PS384"},  # its JWK says `alg`: that one only
    }
    for kid, key in keys.items():
        for algorithm in EVERY_ALGORITHM:
            if algorithm in accepted[kid]:
                answer = await ask(url, sign(algorithm, key, kid=kid))
                assert answer.status_code == 200, (kid, algorithm, answer.text)
                continue
            # The algorithm with a key of its own kind, naming this key id (ES256 naming an RSA
            # key id answered 500 before issue 14).
            forged = sign(algorithm, private_key_for(algorithm), kid=kid)
            assert_refused(await ask(url, forged), f"{algorithm} naming {kid}")


async def test_jwks_mode_refuses_unknown_and_missing_key_ids_and_stranger_keys(
    jwks_intake: tuple[str, dict[str, Any]],
) -> None:
    url, keys = jwks_intake
    assert_refused(await ask(url, sign("RS256", keys["rsa"], kid="nobody")), "unknown kid")
    assert_refused(await ask(url, sign("RS256", keys["rsa"])), "no kid")
    stranger = private_key_for("RS256")
    assert_refused(await ask(url, sign("RS256", stranger, kid="rsa")), "a stranger's RSA key")
    for what, token in MALFORMED.items():
        assert_refused(await ask(url, token), what)

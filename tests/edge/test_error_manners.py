"""What a careless caller is told, against the running service: a body that is not JSON, or is
not sent as JSON, is told what to send (400/415, not a 422 about dictionaries); an unknown path
names itself and points at /docs; a path that differs by a trailing slash is redirected without
repeating the caller's Host header (issue 14, findings 6 and 7)."""

import httpx
import pytest

from tests.conftest import System
from tests.referrals import fresh_key

pytestmark = pytest.mark.services("intake")
PROBLEM = "application/problem+json"


def officer(system: System) -> httpx.AsyncClient:
    return system.client(
        "intake", system.token(sub="officer-1", role="officer", agency="pontiac-pd")
    )


def problem(answer: httpx.Response, status: int, kind: str) -> str:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body = answer.json()
    assert body["type"].endswith("/" + kind), body
    detail: str = body["detail"]
    return detail


@pytest.mark.parametrize(
    ("content_type", "body", "status", "kind"),
    [
        ("application/json", b"not json at all", 400, "body-not-json"),
        ("application/json", b'{"door": ', 400, "body-not-json"),
        (None, b"door=arrest_diversion", 415, "unsupported-media-type"),
        ("text/plain", b'{"door": "arrest_diversion"}', 415, "unsupported-media-type"),
        (
            "application/x-www-form-urlencoded",
            b"door=arrest_diversion",
            415,
            "unsupported-media-type",
        ),
        ("application/xml", b"<referral/>", 415, "unsupported-media-type"),
        ("application/json", b"[1, 2]", 422, "invalid-request"),
    ],
)
async def test_a_body_that_is_not_a_json_object_is_told_what_to_send(
    system: System, content_type: str | None, body: bytes, status: int, kind: str
) -> None:
    headers = {**fresh_key(), **({"Content-Type": content_type} if content_type else {})}
    async with officer(system) as intake:
        answer = await intake.post("/referrals", content=body, headers=headers)
    detail = problem(answer, status, kind)
    assert "valid dictionary" not in answer.text
    assert "JSON object" in detail and "/docs" in detail


async def test_an_unknown_path_says_which_and_points_to_the_docs(system: System) -> None:
    async with officer(system) as intake:
        answer = await intake.get("/referals/oops")
    detail = problem(answer, 404, "not-found")
    assert "/referals/oops" in detail and "/docs" in detail
    assert answer.json()["title"] != "Not Found"


async def test_a_trailing_slash_is_redirected_without_echoing_the_host(system: System) -> None:
    async with officer(system) as intake:
        answer = await intake.get("/referrals/?limit=5", headers={"Host": "evil.example"})
        assert answer.status_code == 307, answer.text
        assert answer.headers["location"] == "/referrals?limit=5"
        assert "evil" not in answer.text
        assert (await intake.get("/referrals/")).status_code == 307
        followed = await intake.get("/referrals/", follow_redirects=True)
    assert followed.status_code == 200

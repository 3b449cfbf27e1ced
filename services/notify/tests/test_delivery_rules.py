"""Retry timing and webhook signatures, checked against the Standard Webhooks specification by
hand rather than by the library that signs."""

import base64
import hashlib
import hmac
from datetime import UTC, datetime

from notify.adapters.webhooks import new_secret, signed_headers
from notify.domain.retries import RetryPolicy


def test_failed_deliveries_back_off_exponentially_up_to_a_cap_then_give_up() -> None:
    policy = RetryPolicy(max_attempts=5, base_seconds=2, max_seconds=10)
    assert [policy.delay_after(n) for n in range(1, 6)] == [2, 4, 8, 10, 10]
    assert not policy.gives_up_after(4)
    assert policy.gives_up_after(5)


def test_webhook_signature_is_hmac_sha256_of_id_timestamp_and_body() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    assert len(key) == 24
    at = datetime(2026, 11, 25, 6, 0, 0, tzinfo=UTC)
    body = '{"type":"offramp.notification","data":{}}'

    headers = signed_headers(secret, "msg_1", body, at)

    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-timestamp"] == str(int(at.timestamp()))
    expected = hmac.new(key, f"msg_1.{int(at.timestamp())}.{body}".encode(), hashlib.sha256)
    assert headers["webhook-signature"] == "v1," + base64.b64encode(expected.digest()).decode()

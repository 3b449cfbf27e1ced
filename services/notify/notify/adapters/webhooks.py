"""Calls to partners' webhook endpoints, signed as the Standard Webhooks specification says:
`webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of
id.timestamp.body>` keyed by the subscription's `whsec_` secret. Signing is the specification's
own reference library (`standardwebhooks`)."""

import base64
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from standardwebhooks.webhooks import Webhook

from notify.adapters.failures import DeliveryFailed

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """24 random bytes, base64, with the specification's `whsec_` prefix."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def signed_headers(secret: str, webhook_id: str, body: str, at: datetime) -> dict[str, str]:
    at = at.astimezone(UTC)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, at, body),
        "content-type": "application/json",
    }


@dataclass(frozen=True)
class WebhookCaller:
    timeout_seconds: float = 10.0

    async def post(self, *, url: str, secret: str, webhook_id: str, body: str) -> None:
        """The webhook id stays the same on every attempt (the receiver deduplicates by it);
        the timestamp and signature are made fresh for each."""
        headers = signed_headers(secret, webhook_id, body, datetime.now(UTC))
        try:
            async with httpx.AsyncClient(timeout=self.timeout_seconds) as client:
                response = await client.post(url, content=body.encode(), headers=headers)
        except httpx.HTTPError as error:
            raise DeliveryFailed(f"POST {url}: {error!r}") from error
        if not response.is_success:
            raise DeliveryFailed(f"POST {url}: answered {response.status_code}")

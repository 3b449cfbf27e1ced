"""Calls to partners' webhook endpoints, signed as the Standard Webhooks specification says:
`webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of
id.timestamp.body>` keyed by the subscription's `whsec_` secret. Signing is the specification's
own reference library (`standardwebhooks`)."""

import asyncio
import base64
import ipaddress
import secrets
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from standardwebhooks.webhooks import Webhook

from notify.adapters.failures import DeliveryFailed
from notify.domain.destinations import Destination, DestinationPolicy, IpAddress, UnsafeDestination

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


async def resolve(destination: Destination) -> list[IpAddress]:
    """Every address the destination's host has now (a literal address is its own)."""
    try:
        found = await asyncio.get_running_loop().getaddrinfo(
            destination.host, destination.port, type=socket.SOCK_STREAM
        )
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeDestination(
            f"the host {destination.host[:100]!r} does not resolve to an address"
        ) from error
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in found))


async def checked_addresses(policy: DestinationPolicy, url: str) -> tuple[Destination, IpAddress]:
    """The destination and the address to call, every one of its host's addresses checked."""
    destination = policy.destination(url)
    addresses = await resolve(destination)
    for address in addresses:
        policy.check_address(destination, address)
    return destination, addresses[0]


@dataclass(frozen=True)
class WebhookCaller:
    timeout_seconds: float = 10.0
    policy: DestinationPolicy = field(default_factory=DestinationPolicy)

    async def post(self, *, url: str, secret: str, webhook_id: str, body: str) -> None:
        """The webhook id stays the same on every attempt (the receiver deduplicates by it);
        the timestamp and signature are made fresh for each.

        The host is resolved and checked here, and the call goes to the address that was
        checked (with the host in the Host header and TLS's SNI), so a name cannot resolve to a
        public address for the check and an inner one for the call. Failures are told in
        notify's own words: what an exception or an inner port would say stays in the log."""
        try:
            destination, address = await checked_addresses(self.policy, url)
        except UnsafeDestination as refused:
            raise DeliveryFailed(f"refused: {refused}") from refused
        headers = signed_headers(secret, webhook_id, body, datetime.now(UTC))
        target = httpx.URL(url).copy_with(host=str(address))
        headers["host"] = httpx.URL(url).netloc.decode()
        try:
            async with httpx.AsyncClient(
                timeout=self.timeout_seconds, follow_redirects=False, trust_env=False
            ) as client:
                response = await client.post(
                    target,
                    content=body.encode(),
                    headers=headers,
                    extensions={"sni_hostname": destination.host},
                )
        except httpx.TimeoutException as error:
            raise DeliveryFailed("the receiver did not answer in time") from error
        except httpx.HTTPError as error:
            raise DeliveryFailed("the receiver could not be reached") from error
        if response.is_redirect:
            raise DeliveryFailed(
                f"the receiver answered {response.status_code}, a redirect, which is not "
                "followed; subscribe the URL it points to"
            )
        if not response.is_success:
            raise DeliveryFailed(f"the receiver answered {response.status_code}")

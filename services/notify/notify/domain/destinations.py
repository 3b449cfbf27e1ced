"""Where a webhook may be sent (issue 14): a subscription names a partner's system on the public
internet, reached over https, and nothing inside the county's network. Checked when a
subscription is made and again, on the addresses its host resolves to then, before every
delivery, so a name that later resolves inward (DNS rebinding) is refused too.

Pure: the caller resolves the host and hands the addresses in.
"""

import ipaddress
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeDestination(ValueError):
    """The URL, or an address its host resolves to, is not one notify may call."""


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str
    port: int


@dataclass(frozen=True)
class DestinationPolicy:
    """`allow_loopback` is the embedded default's explicit setting: its partner systems are test
    receivers on this machine, over plain http. Production leaves it off."""

    allow_loopback: bool = False

    def destination(self, url: str) -> Destination:
        """The URL's parts, or UnsafeDestination if its form alone already rules it out."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as error:
            raise UnsafeDestination("the URL does not parse as an http(s) URL") from error
        scheme = parts.scheme.lower()
        if scheme not in ("https", "http"):
            raise UnsafeDestination("a webhook URL starts with https://")
        if scheme == "http" and not self.allow_loopback:
            raise UnsafeDestination("webhooks are sent over https only; give an https:// URL")
        if _has_userinfo(parts):
            raise UnsafeDestination(
                "a webhook URL carries no user name or password: the receiver checks the "
                "Standard Webhooks signature instead"
            )
        if not parts.hostname:
            raise UnsafeDestination("the URL names no host")
        return Destination(scheme, parts.hostname, port or (443 if scheme == "https" else 80))

    def check_address(self, destination: Destination, address: IpAddress) -> None:
        """Refuses an address inside any private network: loopback, RFC 1918 and unique-local,
        link-local (cloud metadata at 169.254.169.254), carrier-grade NAT, unspecified,
        multicast, reserved and documentation ranges; an IPv4-mapped IPv6 address as its IPv4."""
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if address.is_loopback and self.allow_loopback:
            return
        if destination.scheme == "http":
            raise UnsafeDestination(
                "plain http goes to this machine's own test receivers only; give an https:// URL"
            )
        if not address.is_global or address.is_multicast:
            raise UnsafeDestination(
                f"the host {destination.host[:100]!r} resolves to an address inside a private "
                "network (loopback, private, link-local or similar); webhooks go to partners' "
                "public systems only"
            )


def _has_userinfo(parts: SplitResult) -> bool:
    return "@" in parts.netloc

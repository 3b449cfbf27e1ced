"""A partner's webhook subscription, as a decider (servicekit.command_loop): one stream per
subscription, subscribed once and deactivated once. Its events say where notifications go (the
endpoint's origin), never the signing secret nor the URL's path and query (see
`WebhookSubscribed`). Pure."""

from dataclasses import dataclass
from urllib.parse import urlsplit
from uuid import UUID

from offramp_contracts import EventPayload
from offramp_contracts.events.notify import WebhookSubscribed, WebhookUnsubscribed
from servicekit.refusals import Refusal


class NoSuchSubscription(Refusal, LookupError):
    """None in the caller's jurisdiction: another jurisdiction's is as absent as a missing one."""

    status = 404
    kind = "not-found"
    title = "No such subscription"

    def __init__(self, subscription_id: UUID) -> None:
        super().__init__(f"No subscription {subscription_id}.")


class AlreadySubscribed(Refusal):
    status = 409
    kind = "already-subscribed"
    title = "This subscription exists already"

    def __init__(self, subscription_id: UUID) -> None:
        super().__init__(f"Subscription {subscription_id} was made already; list them with GET.")


@dataclass(frozen=True)
class Subscribe:
    subscription_id: UUID
    agency: str
    url: str


@dataclass(frozen=True)
class Unsubscribe:
    subscription_id: UUID


SubscriptionCommand = Subscribe | Unsubscribe


@dataclass(frozen=True)
class SubscriptionState:
    subscribed: bool = False
    active: bool = False
    agency: str = ""
    origin: str = ""


def stream_of(subscription_id: UUID) -> str:
    return f"webhook-subscription-{subscription_id}"


def origin_of(url: str) -> str:
    """`scheme://host[:port]` (RFC 6454), the port only when it is not the scheme's default:
    where the calls go, without the path and query a partner may keep a token in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    default = {"https": 443, "http": 80}.get(scheme)
    return f"{scheme}://{host}" + ("" if port in (None, default) else f":{port}")


def decide(command: SubscriptionCommand, state: SubscriptionState) -> list[EventPayload]:
    match command:
        case Subscribe(subscription_id=subscription_id, agency=agency, url=url):
            if state.subscribed:
                raise AlreadySubscribed(subscription_id)
            origin = origin_of(url)
            return [
                WebhookSubscribed(subscription_id=subscription_id, agency=agency, origin=origin)
            ]
        case Unsubscribe(subscription_id=subscription_id):
            if not state.subscribed:
                raise NoSuchSubscription(subscription_id)
            if not state.active:
                return []  # deactivated already: nothing new to record
            return [
                WebhookUnsubscribed(
                    subscription_id=subscription_id, agency=state.agency, origin=state.origin
                )
            ]


def evolve(state: SubscriptionState, event: EventPayload) -> SubscriptionState:
    match event:
        case WebhookSubscribed(agency=agency, origin=origin):
            return SubscriptionState(subscribed=True, active=True, agency=agency, origin=origin)
        case WebhookUnsubscribed():
            return SubscriptionState(True, False, state.agency, state.origin)
    return state

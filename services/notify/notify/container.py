"""What `bootstrap` builds once notify's runtime has started: its parts, typed."""

from dataclasses import dataclass

from notify.delivery_loop import DeliveryLoop
from notify.domain.destinations import DestinationPolicy
from servicekit.inbox import InboxConsumer


@dataclass(frozen=True)
class NotifyContainer:
    consumer: InboxConsumer
    deliveries: DeliveryLoop
    destinations: DestinationPolicy

"""What `bootstrap` builds once notify's runtime has started: its parts, typed."""

from dataclasses import dataclass

from notify.delivery_loop import DeliveryLoop
from servicekit.inbox import InboxConsumer


@dataclass(frozen=True)
class NotifyContainer:
    consumer: InboxConsumer
    deliveries: DeliveryLoop

"""What `bootstrap` builds once notify's runtime has started: its parts, typed."""

from dataclasses import dataclass

from notify.delivery_loop import DeliveryLoop
from notify.domain.destinations import DestinationPolicy
from notify.use_cases import NotifyUseCases
from servicekit.inbox import InboxConsumer


@dataclass(frozen=True)
class NotifyContainer:
    consumer: InboxConsumer
    deliveries: DeliveryLoop
    destinations: DestinationPolicy
    use_cases: NotifyUseCases

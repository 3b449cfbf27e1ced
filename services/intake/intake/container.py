"""What `bootstrap` builds once intake's runtime has started: its parts, typed."""

from dataclasses import dataclass

from intake.use_cases import Intake
from servicekit.inbox import InboxConsumer


@dataclass(frozen=True)
class IntakeContainer:
    intake: Intake
    consumer: InboxConsumer

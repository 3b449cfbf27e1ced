"""What `bootstrap` builds once casework's runtime has started: its parts, typed."""

from dataclasses import dataclass

from casework.commands import Casework
from servicekit.inbox import InboxConsumer


@dataclass(frozen=True)
class CaseworkContainer:
    casework: Casework
    consumer: InboxConsumer
    """ReferralAdmitted: opens cases by starting their timelines."""
    facts_consumer: InboxConsumer
    """Tells timelines of the facts stored on their cases."""
    arrests_consumer: InboxConsumer
    """ParticipantArrestReported: records intake's matched arrests on their cases."""

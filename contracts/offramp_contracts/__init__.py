"""Offramp's published language.

Pure: schemas and rules only. No I/O, no clock, no service code. Services depend on this
package and never on each other.
"""

from offramp_contracts.envelope import Actor, EventEnvelope
from offramp_contracts.events.base import EventPayload
from offramp_contracts.registry import (
    UnknownEventType,
    event_catalogue,
    payload_of,
    subject_for,
)

__all__ = [
    "Actor",
    "EventEnvelope",
    "EventPayload",
    "UnknownEventType",
    "event_catalogue",
    "payload_of",
    "subject_for",
]

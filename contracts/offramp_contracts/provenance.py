"""Who may publish what: each producing service owns the context of its name, and only it may
publish that context's events. Pure rules, shared by the bus's permissions (deploy/devstack), the
consumers and the ledger, so the three can never disagree."""

from offramp_contracts.envelope import EventEnvelope
from offramp_contracts.registry import event_catalogue

PRODUCERS: tuple[str, ...] = ("intake", "casework", "notify", "audit", "outcomes")
"""Every service that publishes events; each owns the context of the same name (outcomes has
no events of its own yet: it publishes only the access events every service records)."""

ACCESS_EVENTS: tuple[str, ...] = ("RecordAccessed", "AccessDenied")
"""Audit-context events that every service publishes about the reads and refusals it served
(ADR 0010), each as itself (`actor` is `service:<producer>`)."""


def publishable_subjects(producer: str, subject_root: str) -> list[str]:
    """The NATS subjects `producer` may publish on, as subject patterns."""
    if producer not in PRODUCERS:
        raise ValueError(f"{producer!r} is not a producer of events; producers: {PRODUCERS}")
    own = [f"{subject_root}.*.{producer}.>"]
    if producer == "audit":
        return own
    return own + [f"{subject_root}.*.audit.{event_type}" for event_type in ACCESS_EVENTS]


def ownership_problem(producer: str, subject: str, event: EventEnvelope) -> str | None:
    """None if `producer` may have published `event` on `subject`; otherwise why not.

    The subject must be the event's own (`<root>.<jurisdiction>.<context>.<EventType>`), so a
    valid signature cannot carry an event onto another context's or jurisdiction's subject."""
    model = event_catalogue().get(event.event_type)
    if model is None:
        return f"unknown event type {event.event_type!r}"
    tokens = subject.split(".")
    expected = [event.jurisdiction, model.context, event.event_type]
    if len(tokens) != 4 or tokens[1:] != expected:
        return (
            f"{event.event_type} of {event.jurisdiction} travelled on {subject!r}, not on its "
            f"own subject <root>.{'.'.join(expected)}"
        )
    if model.context == producer:
        return None
    if event.event_type in ACCESS_EVENTS and event.actor.subject == f"service:{producer}":
        return None
    return (
        f"{producer} does not own the {model.context} context and may not publish "
        f"{event.event_type}"
    )

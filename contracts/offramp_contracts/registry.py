"""Which events exist, at which schema version, on which subject; and how old versions upcast."""

import functools
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from offramp_contracts.envelope import EventEnvelope
from offramp_contracts.events.audit import AccessDenied, CheckpointSigned, RecordAccessed
from offramp_contracts.events.base import EventPayload
from offramp_contracts.events.casework import (
    CaseClosed,
    CaseManagerAssigned,
    CaseOpened,
    ClientBecameActive,
    ClientBecameInactive,
    ClientEngaged,
    ContactLogged,
    IntakeAssessmentCompleted,
    IntakeWindowMissed,
    InterventionPlanUpdated,
    NewArrestReported,
    NonComplianceReported,
    ProgressReportDue,
    ProsecutorDecisionRecorded,
    ServiceReferralMade,
    ServiceReferralOutcomeRecorded,
)
from offramp_contracts.events.circumstances import CircumstancesRecorded
from offramp_contracts.events.consent import ConsentGranted, ConsentRevoked, InformationDisclosed
from offramp_contracts.events.intake import (
    EligibilityDecided,
    ParticipantArrestReported,
    ReferralAdmitted,
    ReferralReceived,
    ReferralReviewed,
    ReferralWaitlisted,
    ReferralWithdrawn,
)
from offramp_contracts.events.notify import (
    EmailAddressRemoved,
    EmailAddressSet,
    NotificationDelivered,
    NotificationFailed,
    WebhookSubscribed,
    WebhookUnsubscribed,
)
from offramp_contracts.upcasters import UPCASTERS, Upcaster

_CURRENT: tuple[type[EventPayload], ...] = (
    ReferralReceived,
    EligibilityDecided,
    ReferralReviewed,
    ReferralWaitlisted,
    ReferralAdmitted,
    ReferralWithdrawn,
    ParticipantArrestReported,
    CaseOpened,
    CaseManagerAssigned,
    IntakeAssessmentCompleted,
    IntakeWindowMissed,
    ContactLogged,
    ClientEngaged,
    ClientBecameInactive,
    ClientBecameActive,
    InterventionPlanUpdated,
    ServiceReferralMade,
    ServiceReferralOutcomeRecorded,
    ProgressReportDue,
    NonComplianceReported,
    ProsecutorDecisionRecorded,
    NewArrestReported,
    CircumstancesRecorded,
    CaseClosed,
    ConsentGranted,
    ConsentRevoked,
    InformationDisclosed,
    CheckpointSigned,
    RecordAccessed,
    AccessDenied,
    NotificationDelivered,
    NotificationFailed,
    WebhookSubscribed,
    WebhookUnsubscribed,
    EmailAddressSet,
    EmailAddressRemoved,
)

_UPCASTERS: dict[tuple[str, int], Upcaster] = dict(UPCASTERS)


class UnknownEventType(ValueError):
    """An envelope names an event type or version this code does not know."""


def event_catalogue() -> Mapping[str, type[EventPayload]]:
    """Every published event type, mapped to the payload model of its current version."""
    return _catalogue_of(_CURRENT)


@functools.cache
def _catalogue_of(models: tuple[type[EventPayload], ...]) -> Mapping[str, type[EventPayload]]:
    # Built once per set of models: every consumed event looks its type up here.
    return MappingProxyType({model.event_type: model for model in models})


def payload_of(envelope: EventEnvelope) -> EventPayload:
    """The typed payload of an envelope, upcast from an older schema version when needed."""
    model = event_catalogue().get(envelope.event_type)
    if model is None:
        raise UnknownEventType(f"unknown event type {envelope.event_type!r}")
    if envelope.schema_version > model.schema_version:
        raise UnknownEventType(
            f"{envelope.event_type} v{envelope.schema_version} is newer than this code "
            f"(v{model.schema_version}); upgrade the consumer"
        )
    data: dict[str, Any] = dict(envelope.data)
    for version in range(envelope.schema_version, model.schema_version):
        upcast = _UPCASTERS.get((envelope.event_type, version))
        if upcast is None:
            raise UnknownEventType(
                f"no upcaster from {envelope.event_type} v{version} to v{version + 1}"
            )
        data = upcast(data)
    return model.model_validate(data)


def subject_for(root: str, jurisdiction: str, event_type: str) -> str:
    """`<root>.<jurisdiction>.<context>.<EventType>`, e.g. `lead.pontiac.intake.ReferralReceived`."""
    model = event_catalogue().get(event_type)
    if model is None:
        raise UnknownEventType(f"unknown event type {event_type!r}")
    return f"{root}.{jurisdiction}.{model.context}.{event_type}"

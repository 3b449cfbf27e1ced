"""Pure fixtures for the contracts' tests: sample payloads and the envelopes that carry them.
No servers, no clock: every value is fixed so a failure reads the same on every run."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from offramp_contracts import Actor, EventEnvelope, EventPayload
from offramp_contracts.events.base import StaffRef
from offramp_contracts.events.casework import CaseOpened

EnvelopeOf = Callable[..., EventEnvelope]

AT = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
OFFICER = StaffRef(subject="officer-17", agency="oakland-sheriff")


@pytest.fixture
def case_opened() -> CaseOpened:
    return CaseOpened(
        case_id=UUID("0195f1a0-0000-7000-8000-000000000001"),
        referral_id=UUID("0195f1a0-0000-7000-8000-000000000002"),
        door="arrest_diversion",
        referring_officer=OFFICER,
        policy_version="pontiac-2025.1",
    )


@pytest.fixture
def envelope_of() -> EnvelopeOf:
    """An envelope carrying `payload` as the relay would publish it; `overrides` replace fields."""

    def build(payload: EventPayload, **overrides: Any) -> EventEnvelope:
        fields: dict[str, Any] = {
            "event_id": UUID("0195f1a0-0000-7000-8000-0000000000e1"),
            "event_type": payload.event_type,
            "schema_version": payload.schema_version,
            "stream_id": "case-1",
            "stream_version": 1,
            "jurisdiction": "pontiac",
            "occurred_at": AT,
            "recorded_at": AT,
            "actor": Actor(subject="service:casework", agency="offramp", role="system"),
            "correlation_id": UUID("0195f1a0-0000-7000-8000-0000000000c1"),
            "causation_id": None,
            "data": payload.model_dump(mode="json"),
        }
        fields.update(overrides)
        return EventEnvelope(**fields)

    return build

"""The envelope and the payloads are immutable, strict about their fields, and survive the wire."""

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from offramp_contracts import EventEnvelope
from offramp_contracts.events.casework import CaseOpened

EnvelopeOf = Callable[..., EventEnvelope]


def test_an_envelope_cannot_be_changed_once_built(
    envelope_of: EnvelopeOf, case_opened: CaseOpened
) -> None:
    envelope = envelope_of(case_opened)
    with pytest.raises(ValidationError, match="frozen"):
        envelope.stream_version = 2  # type: ignore[misc]  # frozen: what the type forbids, tried


def test_an_actor_cannot_be_changed_once_built(
    envelope_of: EnvelopeOf, case_opened: CaseOpened
) -> None:
    actor = envelope_of(case_opened).actor
    with pytest.raises(ValidationError, match="frozen"):
        actor.role = "auditor"  # type: ignore[misc]  # frozen: what the type forbids, tried


def test_a_payload_cannot_be_changed_once_built(case_opened: CaseOpened) -> None:
    with pytest.raises(ValidationError, match="frozen"):
        case_opened.policy_version = "other"  # type: ignore[misc]  # frozen: what the type forbids, tried


def test_an_envelope_refuses_a_field_it_does_not_know(
    envelope_of: EnvelopeOf, case_opened: CaseOpened
) -> None:
    fields: dict[str, Any] = envelope_of(case_opened).model_dump()
    fields["priority"] = "high"
    with pytest.raises(ValidationError, match="priority"):
        EventEnvelope.model_validate(fields)


def test_a_payload_refuses_a_field_it_does_not_know(case_opened: CaseOpened) -> None:
    fields = case_opened.model_dump(mode="json")
    fields["diagnosis"] = "must never travel in CaseOpened"
    with pytest.raises(ValidationError, match="diagnosis"):
        CaseOpened.model_validate(fields)


def test_an_envelope_comes_back_from_the_wire_unchanged(
    envelope_of: EnvelopeOf, case_opened: CaseOpened
) -> None:
    envelope = envelope_of(case_opened)
    assert EventEnvelope.from_wire(envelope.wire_json()) == envelope
    assert EventEnvelope.from_wire(envelope.wire_json().decode()) == envelope
    assert EventEnvelope.from_wire(envelope.wire_json()).wire_json() == envelope.wire_json()


@pytest.mark.parametrize(
    "jurisdiction",
    ["Pontiac", "pon tiac", "pontiac.north", "pontiac*", ">", "-pontiac", "", "p" * 64],
)
def test_a_jurisdiction_that_would_break_a_subject_is_refused(
    envelope_of: EnvelopeOf, case_opened: CaseOpened, jurisdiction: str
) -> None:
    with pytest.raises(ValidationError, match="jurisdiction"):
        envelope_of(case_opened, jurisdiction=jurisdiction)


@pytest.mark.parametrize(
    "event_type", ["caseOpened", "Case.Opened", "Case_Opened", "CaseOpened*", "C", "Case Opened"]
)
def test_an_event_type_that_is_not_a_pascal_case_name_is_refused(
    envelope_of: EnvelopeOf, case_opened: CaseOpened, event_type: str
) -> None:
    with pytest.raises(ValidationError, match="event_type"):
        envelope_of(case_opened, event_type=event_type)


def test_an_envelope_without_a_timezone_is_refused(
    envelope_of: EnvelopeOf, case_opened: CaseOpened
) -> None:
    with pytest.raises(ValidationError, match="occurred_at"):
        envelope_of(case_opened, occurred_at="2025-03-04T09:30:00")


def test_schema_and_stream_versions_start_at_one(
    envelope_of: EnvelopeOf, case_opened: CaseOpened
) -> None:
    with pytest.raises(ValidationError, match="schema_version"):
        envelope_of(case_opened, schema_version=0)
    with pytest.raises(ValidationError, match="stream_version"):
        envelope_of(case_opened, stream_version=0)

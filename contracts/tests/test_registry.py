"""The registry knows every published event and its subject, and brings old versions up to date."""

from collections.abc import Callable, Mapping
from typing import Any, ClassVar
from uuid import UUID, uuid4

import pytest

from offramp_contracts import EventEnvelope, UnknownEventType, event_catalogue, payload_of, registry
from offramp_contracts.events.base import Context, EventPayload
from offramp_contracts.events.casework import CaseOpened
from offramp_contracts.identifiers import case_id_for_referral

EnvelopeOf = Callable[..., EventEnvelope]


class ContactRecorded(EventPayload):
    """Stands in for an event whose second version renamed `note` to `summary`."""

    event_type: ClassVar[str] = "ContactRecorded"
    schema_version: ClassVar[int] = 2
    context: ClassVar[Context] = "casework"

    case_id: UUID
    summary: str


def rename_note_to_summary(data: Mapping[str, Any]) -> dict[str, Any]:
    upcast = dict(data)
    upcast["summary"] = upcast.pop("note")
    return upcast


def test_payload_of_returns_the_typed_payload(
    envelope_of: EnvelopeOf, case_opened: CaseOpened
) -> None:
    payload = payload_of(envelope_of(case_opened))
    assert isinstance(payload, CaseOpened)
    assert payload == case_opened


def test_payload_of_refuses_an_event_type_it_does_not_know(
    envelope_of: EnvelopeOf, case_opened: CaseOpened
) -> None:
    envelope = envelope_of(case_opened, event_type="CaseTeleported")
    with pytest.raises(UnknownEventType, match="unknown event type 'CaseTeleported'"):
        payload_of(envelope)


def test_payload_of_refuses_a_version_newer_than_the_code_and_says_to_upgrade(
    envelope_of: EnvelopeOf, case_opened: CaseOpened
) -> None:
    envelope = envelope_of(case_opened, schema_version=CaseOpened.schema_version + 1)
    with pytest.raises(UnknownEventType, match=r"CaseOpened v2 is newer .* upgrade the consumer"):
        payload_of(envelope)


def test_an_old_version_is_upcast_to_the_current_one(
    envelope_of: EnvelopeOf, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "_CURRENT", (*registry._CURRENT, ContactRecorded))
    monkeypatch.setitem(registry._UPCASTERS, ("ContactRecorded", 1), rename_note_to_summary)
    case_id = uuid4()
    v1 = envelope_of(
        ContactRecorded(case_id=case_id, summary="unused"),
        schema_version=1,
        data={"case_id": str(case_id), "note": "met at the library"},
    )

    assert payload_of(v1) == ContactRecorded(case_id=case_id, summary="met at the library")


def test_an_old_version_without_an_upcaster_is_refused_by_name(
    envelope_of: EnvelopeOf, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "_CURRENT", (*registry._CURRENT, ContactRecorded))
    v1 = envelope_of(
        ContactRecorded(case_id=uuid4(), summary="unused"),
        schema_version=1,
        data={"case_id": str(uuid4()), "note": "met at the library"},
    )
    with pytest.raises(UnknownEventType, match="no upcaster from ContactRecorded v1 to v2"):
        payload_of(v1)


def test_the_subject_is_root_jurisdiction_context_and_event_type() -> None:
    assert registry.subject_for("lead", "pontiac", "ReferralReceived") == (
        "lead.pontiac.intake.ReferralReceived"
    )
    assert (
        registry.subject_for("lead", "pontiac", "CaseOpened") == "lead.pontiac.casework.CaseOpened"
    )


def test_there_is_no_subject_for_an_unknown_event_type() -> None:
    with pytest.raises(UnknownEventType, match="CaseTeleported"):
        registry.subject_for("lead", "pontiac", "CaseTeleported")


def test_a_referral_always_derives_the_same_case_id() -> None:
    referral_id = uuid4()
    assert case_id_for_referral(referral_id) == case_id_for_referral(UUID(str(referral_id)))


def test_the_case_id_derivation_never_changes() -> None:
    # A new namespace would open a second case (and workflow) for every redelivered referral.
    referral_id = UUID("0195f1a0-0000-7000-8000-000000000002")
    assert case_id_for_referral(referral_id) == UUID("b09049b3-57ec-58c3-9409-df5d0caeab79")


def test_two_referrals_derive_different_case_ids() -> None:
    assert case_id_for_referral(uuid4()) != case_id_for_referral(uuid4())


def test_the_catalogue_cannot_be_changed_by_its_callers() -> None:
    with pytest.raises(TypeError):
        # What the read-only type forbids, tried at run time.
        event_catalogue()["CaseTeleported"] = CaseOpened  # type: ignore[index]


@pytest.mark.parametrize("model", [event_catalogue()[name] for name in sorted(event_catalogue())])
def test_every_catalogued_event_declares_its_type_version_and_context(
    model: type[EventPayload],
) -> None:
    assert model.event_type
    assert event_catalogue()[model.event_type] is model
    assert model.schema_version >= 1
    assert model.context in {"intake", "casework", "notify", "audit"}
    assert model.model_config.get("frozen") is True
    assert model.model_config.get("extra") == "forbid"

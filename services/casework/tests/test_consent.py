"""Releases of information: which forms may be recorded, and when a release is in force."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from casework.domain import consent, releases
from casework.domain.consent import (
    ELEMENTS,
    CaseParties,
    ReleaseForm,
    ReleaseIncomplete,
    ReleaseInvalid,
    ReleaseNotFound,
    ReleaseToLawEnforcement,
)
from casework.domain.releases import Release
from offramp_contracts import Actor, EventEnvelope
from offramp_contracts.events.base import EventPayload, StaffRef
from offramp_contracts.events.casework import CaseClosed
from offramp_contracts.events.consent import ConsentGranted, ConsentRevoked
from servicekit.events import new_event

CASE = UUID("0190a3b4-0000-7000-8000-0000000000c1")
CM = StaffRef(subject="cm-1", agency="pontiac-case-management")
PARTIES = CaseParties(
    case_id=CASE,
    agency="pontiac-case-management",
    prosecutor_agency="oakland-prosecutor",
    referring_agency="pontiac-pd",
)
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)

FORM = ReleaseForm(
    participant=CASE,
    discloser="pontiac-case-management",
    information=frozenset({"program_status", "attendance"}),
    recipient_agency="oakland-public-defender",
    recipient_role="public_defender",
    purpose="to represent the participant in their pending case",
    revoke_statement="I may revoke this consent at any time, except for what was already done.",
    revoke_how="tell my case manager, in writing or in person",
    expires_at=NOW + timedelta(days=180),
    expires_on="case_closed",
    signed_by="participant",
    signed_on=date(2026, 5, 30),
)

# Each element of rule 10, and how the form lacks it.
WITHOUT: dict[str, dict[str, object]] = {
    "participant": {"participant": None},
    "discloser": {"discloser": "  "},
    "information": {"information": frozenset()},
    "recipient.agency": {"recipient_agency": None},
    "recipient.role": {"recipient_role": None},
    "purpose": {"purpose": ""},
    "right_to_revoke.statement": {"revoke_statement": None},
    "right_to_revoke.how": {"revoke_how": None},
    "expiry": {"expires_at": None, "expires_on": None},
    "signature.signed_by": {"signed_by": None},
    "signature.representative": {"signed_by": "legal_representative", "representative": None},
    "signature.signed_on": {"signed_on": None},
}


def grant(form: ReleaseForm = FORM, now: datetime = NOW) -> ConsentGranted:
    return consent.grant(form, PARTIES, release_id=uuid4(), recorded_by=CM, now=now)


def test_a_complete_form_is_recorded_with_every_element() -> None:
    granted = grant()
    assert granted.case_id == CASE
    assert granted.discloser == "pontiac-case-management"
    assert granted.information == {"program_status", "attendance"}
    assert (granted.recipient.agency, granted.recipient.role) == (
        "oakland-public-defender",
        "public_defender",
    )
    assert granted.right_to_revoke.how.startswith("tell my case manager")
    assert granted.expires_on == "case_closed"
    assert granted.signature.signed_on == date(2026, 5, 30)


def test_every_element_of_rule_10_is_listed_with_how_to_supply_it() -> None:
    assert set(WITHOUT) == set(ELEMENTS)


@pytest.mark.parametrize("element", sorted(WITHOUT))
def test_a_form_without_one_element_is_refused_naming_it_and_how(element: str) -> None:
    with pytest.raises(ReleaseIncomplete) as refused:
        # An element left out as a form filled in by hand can leave it (None, blank, empty).
        grant(replace(FORM, **WITHOUT[element]))  # type: ignore[arg-type]
    assert [m.element for m in refused.value.missing] == [element]
    assert refused.value.missing[0].how == ELEMENTS[element]
    assert element in str(refused.value)


def test_an_empty_form_is_refused_naming_every_element_at_once() -> None:
    with pytest.raises(ReleaseIncomplete) as refused:
        grant(ReleaseForm())
    assert {m.element for m in refused.value.missing} == set(ELEMENTS) - {
        "signature.representative"
    }


def test_either_an_expiry_date_or_the_case_closing_is_enough() -> None:
    assert grant(replace(FORM, expires_at=None)).expires_on == "case_closed"
    assert grant(replace(FORM, expires_on=None)).expires_at == FORM.expires_at


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"signed_on": date(2026, 6, 2)}, "in the future"),
        ({"expires_at": datetime(2026, 5, 1, tzinfo=UTC)}, "before it was signed"),
        ({"expires_at": NOW - timedelta(seconds=1)}, "expired at"),
        ({"participant": uuid4()}, "record it on that case"),
        ({"discloser": "another-agency"}, "must name it as `discloser`"),
        ({"recipient_agency": "pontiac-case-management"}, "already holds the record"),
        ({"recipient_role": "auditor"}, "cannot receive a disclosure"),
    ],
)
def test_a_form_that_cannot_be_right_is_refused_saying_why(
    change: dict[str, object], says: str
) -> None:
    with pytest.raises(ReleaseInvalid, match=says):
        # Each change is of its own field's type; the parametrised dict cannot say which.
        grant(replace(FORM, **change))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "recipient",
    [
        {"recipient_role": "officer", "recipient_agency": "oakland-sheriff"},
        {"recipient_role": "prosecutor", "recipient_agency": "oakland-prosecutor"},
        {"recipient_role": "public_defender", "recipient_agency": "oakland-prosecutor"},
        {"recipient_role": "case_manager", "recipient_agency": "pontiac-pd"},
    ],
)
def test_a_release_to_law_enforcement_or_a_prosecutor_is_refused_by_the_golden_rule(
    recipient: dict[str, str],
) -> None:
    with pytest.raises(ReleaseToLawEnforcement, match="Golden Rule"):
        # The roles come as the strings a form carries, not as the Literal of roles (twice).
        grant(replace(FORM, **recipient))  # type: ignore[arg-type]
    # However little else the form holds: no completing it would help.
    with pytest.raises(ReleaseToLawEnforcement):
        grant(ReleaseForm(**recipient))  # type: ignore[arg-type]


# --- in force, revoked, expired --------------------------------------------------------------

RECORDED = NOW


def release(expires_at: datetime | None = None, revoked_at: datetime | None = None) -> Release:
    granted = grant(replace(FORM, expires_at=expires_at, expires_on="case_closed"))
    revocation = (
        ConsentRevoked(
            case_id=CASE,
            release_id=granted.release_id,
            revoked_at=revoked_at,
            method="orally",
            recorded_by=CM,
        )
        if revoked_at
        else None
    )
    return Release(granted, RECORDED, revocation)


def test_a_release_is_in_force_from_when_it_is_recorded() -> None:
    ours = release()
    assert releases.standing(ours, RECORDED - timedelta(seconds=1), None).status == (
        "not_yet_recorded"
    )
    assert releases.standing(ours, RECORDED, None).in_force


def test_a_revocation_ends_a_release_at_that_very_instant() -> None:
    revoked_at = NOW + timedelta(days=3)
    ours = release(revoked_at=revoked_at)
    assert releases.standing(ours, revoked_at - timedelta(microseconds=1), None).in_force
    ended = releases.standing(ours, revoked_at, None)
    assert ended.status == "revoked" and ended.ended_at == revoked_at
    assert "revoked orally" in ended.explanation


def test_an_expiry_date_ends_a_release_at_that_very_instant() -> None:
    expires = NOW + timedelta(days=30)
    ours = release(expires_at=expires)
    assert releases.standing(ours, expires - timedelta(microseconds=1), None).in_force
    ended = releases.standing(ours, expires, None)
    assert (ended.status, ended.ended_at) == ("expired", expires)


def test_the_case_closing_ends_a_release_that_expires_on_it() -> None:
    closed = NOW + timedelta(days=2)
    ours = release(expires_at=NOW + timedelta(days=30))
    assert releases.standing(ours, closed - timedelta(microseconds=1), closed).in_force
    ended = releases.standing(ours, closed, closed)
    assert ended.status == "expired" and "case closed" in ended.explanation


def test_a_release_without_the_closing_event_outlives_the_case() -> None:
    granted = grant(replace(FORM, expires_on=None))
    closed = NOW + timedelta(days=2)
    assert releases.standing(
        Release(granted, RECORDED), closed + timedelta(days=1), closed
    ).in_force


def test_whichever_end_comes_first_is_the_one_given() -> None:
    ours = release(expires_at=NOW + timedelta(days=1))
    closed = NOW + timedelta(days=5)
    ended = releases.standing(ours, NOW + timedelta(days=6), closed)
    assert ended.ended_at == NOW + timedelta(days=1)


# --- the stream's releases and revocations ---------------------------------------------------


def envelope(payload: EventPayload, version: int, at: datetime) -> EventEnvelope:
    return new_event(
        payload,
        stream_id=f"case-{CASE}",
        stream_version=version,
        jurisdiction="pontiac",
        actor=Actor(subject="cm-1", agency=CM.agency, role="case_manager"),
        correlation_id=uuid4(),
        causation_id=None,
        occurred_at=at,
    )


def test_the_stream_folds_into_releases_their_revocations_and_the_closing() -> None:
    first, second = grant(), grant()
    revoked = ConsentRevoked(
        case_id=CASE,
        release_id=first.release_id,
        revoked_at=NOW,
        method="in_writing",
        recorded_by=CM,
    )
    closed_at = NOW + timedelta(hours=2)
    record = releases.consent_record(
        [
            envelope(first, 2, NOW - timedelta(hours=1)),
            envelope(second, 3, NOW - timedelta(minutes=30)),
            envelope(revoked, 4, NOW + timedelta(minutes=1)),
            envelope(CaseClosed(case_id=CASE, referral_id=CASE, reason="graduated"), 5, closed_at),
        ]
    )
    assert record.releases[first.release_id].revocation == revoked
    assert record.releases[second.release_id].recorded_at == NOW - timedelta(minutes=30)
    assert record.case_closed_at == closed_at


def test_revoking_an_unknown_release_says_where_to_find_the_releases() -> None:
    with pytest.raises(ReleaseNotFound, match="/releases"):
        consent.revoke(
            releases.ConsentRecord(),
            case_id=CASE,
            release_id=uuid4(),
            revoked_at=NOW,
            method="orally",
            recorded_by=CM,
            now=NOW,
        )


def test_a_revocation_cannot_come_from_the_future_or_before_the_signature() -> None:
    ours = release()
    record = releases.ConsentRecord(releases={ours.release_id: ours})
    for revoked_at, says in [
        (NOW + timedelta(minutes=1), "cannot be in the future"),
        (datetime(2026, 5, 1, tzinfo=UTC), "before the release was signed"),
    ]:
        with pytest.raises(ReleaseInvalid, match=says):
            consent.revoke(
                record,
                case_id=CASE,
                release_id=ours.release_id,
                revoked_at=revoked_at,
                method="orally",
                recorded_by=CM,
                now=NOW,
            )


@pytest.mark.parametrize(
    ("instant", "start"),
    [
        (datetime(2029, 6, 1, 12, tzinfo=UTC), datetime(2026, 6, 1, 12, tzinfo=UTC)),
        (datetime(2028, 2, 29, 8, tzinfo=UTC), datetime(2025, 2, 28, 8, tzinfo=UTC)),
    ],
)
def test_the_list_of_disclosures_goes_back_three_years(instant: datetime, start: datetime) -> None:
    assert consent.three_years_before(instant) == start

"""What a release lets out, to whom: only what it names, substance use only by name, never to
law enforcement, and always with the federal redisclosure notice."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import get_args
from uuid import UUID, uuid4

import pytest

from casework.domain import consent, disclosure
from casework.domain.consent import CaseParties, ReleaseForm
from casework.domain.disclosure import (
    CareRecord,
    GoldenRuleRefusal,
    NoValidRelease,
    Requester,
    ServiceLine,
)
from casework.domain.releases import ConsentRecord, Release
from casework.domain.transitions import accept
from offramp_contracts.events.base import StaffRef
from offramp_contracts.events.casework import CaseOpened, ContactLogged
from offramp_contracts.events.consent import ConsentRevoked, InformationCategory
from offramp_contracts.lifecycle import CaseState

CASE = UUID("0190a3b4-0000-7000-8000-0000000000d1")
CM = StaffRef(subject="cm-1", agency="pontiac-case-management")
PARTIES = CaseParties(
    case_id=CASE,
    agency="pontiac-case-management",
    prosecutor_agency="oakland-prosecutor",
    referring_agency="pontiac-pd",
)
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
PD = Requester("pd-1", "oakland-public-defender", frozenset({"public_defender"}))
FORM = ReleaseForm(
    participant=CASE,
    discloser="pontiac-case-management",
    information=frozenset({"program_status"}),
    recipient_agency="oakland-public-defender",
    recipient_role="public_defender",
    purpose="defence in the pending case",
    revoke_statement="I may revoke this consent.",
    revoke_how="tell my case manager",
    expires_on="case_closed",
    signed_by="participant",
    signed_on=date(2026, 5, 30),
)


def release(**change: object) -> Release:
    # Each change is of its own field's type; `change` cannot say which.
    form = replace(FORM, **change)  # type: ignore[arg-type]
    granted = consent.grant(form, PARTIES, release_id=uuid4(), recorded_by=CM, now=NOW)
    return Release(granted, NOW - timedelta(hours=1))


def record(*releases: Release, closed_at: datetime | None = None) -> ConsentRecord:
    return ConsentRecord({r.release_id: r for r in releases}, closed_at)


def care() -> CareRecord:
    state: CaseState = accept(
        None,
        CaseOpened(
            case_id=CASE,
            referral_id=CASE,
            door="arrest_diversion",
            referring_officer=StaffRef(subject="officer-7", agency="pontiac-pd"),
            policy_version="2026.1",
        ),
    )
    state = accept(
        state,
        ContactLogged(
            case_id=CASE,
            contact_id=uuid4(),
            logged_by=CM,
            contacted_at=NOW - timedelta(days=2),
            method="in_person",
            notes="said they used on Friday",
        ),
    )
    return CareRecord(
        state,
        needs=frozenset({"housing", "detox", "substance_use_treatment", "id_documents"}),
        services=(
            ServiceLine("housing", "Haven", "connected"),
            ServiceLine("detox", "Oakland Detox", "waitlisted"),
            ServiceLine("harm_reduction", "Needle exchange", None),
        ),
    )


def disclose(rec: ConsentRecord, who: Requester = PD, at: datetime = NOW) -> disclosure.Disclosure:
    return disclosure.disclose(rec, care(), who, PARTIES, at)


def test_a_public_defender_named_by_a_release_receives_what_it_names_with_the_notice() -> None:
    ours = release(information=frozenset({"program_status", "attendance"}))
    given = disclose(record(ours))
    assert given.content.program_status is not None
    assert given.content.program_status.status == "working_with_case_manager"
    assert given.content.attendance is not None and given.content.attendance.contacts == 1
    assert given.content.attendance.last_contact_on == (NOW - timedelta(days=2)).date()
    assert given.content.assessed_needs is None and given.content.service_referrals is None
    assert given.content.substance_use_treatment is None
    assert "42 CFR part 2" in given.notice and "NOT sufficient" in given.notice
    assert given.event.redisclosure_notice == "42 CFR 2.32(a)(1)"
    assert given.event.release_ids == [ours.release_id]
    assert given.event.recipient == StaffRef(subject="pd-1", agency="oakland-public-defender")
    assert given.event.information == {"program_status", "attendance"}


def test_substance_use_needs_and_services_leave_only_under_their_own_category() -> None:
    plain = disclose(
        record(release(information=frozenset({"assessed_needs", "service_referrals"})))
    )
    assert plain.content.assessed_needs == frozenset({"housing", "id_documents"})
    assert plain.content.service_referrals == (ServiceLine("housing", "Haven", "connected"),)
    assert plain.content.substance_use_treatment is None

    sud = disclose(record(release(information=frozenset({"substance_use_treatment"}))))
    assert sud.content.assessed_needs is None
    assert sud.content.substance_use_treatment is not None
    assert sud.content.substance_use_treatment.needs == {"detox", "substance_use_treatment"}
    assert [s.service for s in sud.content.substance_use_treatment.service_referrals] == [
        "detox",
        "harm_reduction",
    ]


def test_free_texts_never_leave_whatever_the_release_names() -> None:
    everything: frozenset[InformationCategory] = frozenset(get_args(InformationCategory))
    given = disclose(record(release(information=everything)))
    assert "Friday" not in repr(given.content)


def test_several_releases_in_force_add_up_and_are_all_recorded() -> None:
    a = release(information=frozenset({"program_status"}))
    b = release(information=frozenset({"attendance"}))
    given = disclose(record(a, b))
    assert given.event.information == {"program_status", "attendance"}
    assert set(given.event.release_ids) == {a.release_id, b.release_id}


def test_a_release_naming_one_person_lets_only_that_person_read() -> None:
    ours = release(recipient_subject="pd-1")
    assert disclose(record(ours)).event.recipient.subject == "pd-1"
    colleague = Requester("pd-2", PD.agency, PD.roles)
    with pytest.raises(NoValidRelease, match="No release"):
        disclose(record(ours), colleague)


@pytest.mark.parametrize(
    "who",
    [
        Requester("pd-9", "wayne-public-defender", frozenset({"public_defender"})),
        Requester("cm-9", "oakland-public-defender", frozenset({"case_manager"})),
    ],
)
def test_another_agency_or_role_than_the_release_names_gets_nothing(who: Requester) -> None:
    with pytest.raises(NoValidRelease, match="can sign a release naming you"):
        disclose(record(release()), who)


def test_without_any_release_nothing_leaves() -> None:
    with pytest.raises(NoValidRelease, match="nothing about the participant leaves"):
        disclose(record())


@pytest.mark.parametrize(
    "who",
    [
        Requester("officer-7", "pontiac-pd", frozenset({"officer"})),
        Requester("ada-1", "oakland-prosecutor", frozenset({"prosecutor"})),
        # Another role held at the prosecutor's office or the referring police is no way round.
        Requester("x-1", "oakland-prosecutor", frozenset({"public_defender"})),
        Requester("x-2", "pontiac-pd", frozenset({"case_manager"})),
        Requester("x-3", "oakland-public-defender", frozenset({"public_defender", "officer"})),
    ],
)
def test_law_enforcement_and_prosecutors_are_refused_whatever_the_releases(who: Requester) -> None:
    with pytest.raises(GoldenRuleRefusal, match="Golden Rule"):
        disclose(record(release()), who)


def test_the_agency_that_holds_the_record_is_sent_to_read_the_case() -> None:
    staff = Requester("cm-1", PARTIES.agency, frozenset({"case_manager"}))
    with pytest.raises(NoValidRelease, match=f"GET /cases/{CASE}"):
        disclose(record(release()), staff)


def test_a_revoked_or_expired_release_is_refused_at_once_saying_how_it_ended() -> None:
    ours = release(expires_at=NOW + timedelta(days=1))
    revocation = ConsentRevoked(
        case_id=CASE,
        release_id=ours.release_id,
        revoked_at=NOW,
        method="in_writing",
        recorded_by=CM,
    )
    revoked = replace(ours, revocation=revocation)
    assert disclose(record(revoked), at=NOW - timedelta(microseconds=1)).event
    with pytest.raises(NoValidRelease, match="revoked in writing"):
        disclose(record(revoked), at=NOW)
    with pytest.raises(NoValidRelease, match="expired at"):
        disclose(record(ours), at=NOW + timedelta(days=1))
    with pytest.raises(NoValidRelease, match="expired when the case closed"):
        disclose(record(ours, closed_at=NOW), at=NOW)

"""Who is told what: each trigger's audience and words, resolved from the parties notify knows."""

from dataclasses import replace
from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from notify.domain.coarse import coarse_facts
from notify.domain.triggers import (
    TRIGGERS,
    WIRED,
    Parties,
    Recipient,
    RecipientUnknown,
    notifications_for,
    subjects_of,
)
from offramp_contracts import event_catalogue

OFFICER = Recipient(agency="pontiac-pd", subject="officer-17")
CASE_MANAGER = Recipient(agency="pontiac-case-management", subject="cm-2")
PARTIES = Parties(
    referring_officer=OFFICER,
    case_manager=CASE_MANAGER,
    prosecutor_agency="oakland-prosecutor",
    case_management_agency="pontiac-case-management",
)
PROSECUTORS = Recipient(agency="oakland-prosecutor", role="prosecutor")
SUPERVISORS = Recipient(agency="pontiac-case-management", role="supervisor")
REFERRAL = uuid4()
CASE = uuid4()

# Who hears of each event (DESIGN.md rules 7-9, issue 6).
EXPECTED: dict[str, tuple[dict[str, object], set[Recipient]]] = {
    "EligibilityDecided": ({"referral_id": REFERRAL, "decision": "needs_review"}, {PROSECUTORS}),
    "CaseOpened": ({"referral_id": REFERRAL, "case_id": CASE}, {OFFICER}),
    "CaseManagerAssigned": ({"case_id": CASE}, {CASE_MANAGER}),
    "NonComplianceReported": ({"case_id": CASE}, {OFFICER, PROSECUTORS}),
    "CaseClosed": ({"referral_id": REFERRAL, "case_id": CASE}, {OFFICER}),
    "ProgressReportDue": (
        {"referral_id": REFERRAL, "case_id": CASE, "coarse_status": "engaged", "report_number": 2},
        {OFFICER},
    ),
    "IntakeWindowMissed": (
        {"referral_id": REFERRAL, "case_id": CASE, "window_ended_at": datetime.now(UTC)},
        {OFFICER, PROSECUTORS, SUPERVISORS},
    ),
    "ClientBecameInactive": ({"case_id": CASE}, {CASE_MANAGER}),
    "NewArrestReported": (
        {"referral_id": REFERRAL, "case_id": CASE, "arrested_on": date(2026, 11, 20)},
        {PROSECUTORS, CASE_MANAGER},
    ),
    "IntakeAssessmentCompleted": (
        {
            "referral_id": REFERRAL,
            "case_id": CASE,
            "door": "arrest_diversion",
            "within_intake_window": True,
        },
        {PROSECUTORS},
    ),
}


@pytest.mark.parametrize("event_type", sorted(EXPECTED))
def test_each_trigger_tells_exactly_its_audience(event_type: str) -> None:
    data, recipients = EXPECTED[event_type]
    told = notifications_for(event_type, coarse_facts(data), PARTIES)
    assert {n.recipient for n in told} == recipients
    for note in told:
        assert note.text.subject and note.text.body
        named = {str(data.get("referral_id")), str(data.get("case_id"))}
        assert any(ident in note.text.body for ident in named), note.text.body


def test_every_trigger_has_an_expectation_here() -> None:
    assert set(TRIGGERS) == set(EXPECTED)


def test_wired_events_are_published_events_with_rules() -> None:
    assert set(WIRED) <= set(TRIGGERS)
    assert set(WIRED) <= set(event_catalogue())
    assert subjects_of("lead") == [
        f"lead.*.{event_catalogue()[name].context}.{name}" for name in WIRED
    ]


def test_the_officer_hears_the_coarse_status_of_each_step() -> None:
    said = {
        event_type: notifications_for(event_type, coarse_facts(EXPECTED[event_type][0]), PARTIES)
        for event_type in ("CaseOpened", "NonComplianceReported", "CaseClosed", "ProgressReportDue")
    }
    officer_bodies = {
        event_type: next(n.text.body for n in notes if n.recipient == OFFICER)
        for event_type, notes in said.items()
    }
    assert "Status: working with a case manager." in officer_bodies["CaseOpened"]
    assert "Status: non-compliant." in officer_bodies["NonComplianceReported"]
    assert "Status: closed." in officer_bodies["CaseClosed"]
    assert "Status: engaged." in officer_bodies["ProgressReportDue"]


def test_only_a_referral_that_needs_review_reaches_the_prosecutor() -> None:
    for decision in ("eligible", "ineligible"):
        facts = coarse_facts({"referral_id": REFERRAL, "decision": decision})
        assert notifications_for("EligibilityDecided", facts, PARTIES) == []


def test_a_message_for_someone_not_yet_known_is_refused_so_it_is_retried() -> None:
    facts = coarse_facts({"case_id": CASE, "condition": "curfew"})
    with pytest.raises(RecipientUnknown, match="referring officer"):
        notifications_for("NonComplianceReported", facts, Parties(prosecutor_agency="x"))


def test_a_new_arrest_on_a_case_not_yet_assigned_reaches_the_prosecutor_and_supervisors() -> None:
    unassigned = Parties(
        referring_officer=OFFICER,
        prosecutor_agency="oakland-prosecutor",
        case_management_agency="pontiac-case-management",
        case_known=True,
    )
    facts = coarse_facts({"case_id": CASE, "arrested_on": "2026-11-30"})
    told = {n.recipient for n in notifications_for("NewArrestReported", facts, unassigned)}
    assert told == {
        Recipient(agency="oakland-prosecutor", role="prosecutor"),
        Recipient(agency="pontiac-case-management", role="supervisor"),
    }
    # A case whose opening notify has not seen yet is retried, not sent to the supervisors.
    with pytest.raises(RecipientUnknown, match="case manager"):
        notifications_for("NewArrestReported", facts, replace(unassigned, case_known=False))


def test_supervisors_of_the_case_managers_agency_hear_of_overdue_intake() -> None:
    elsewhere = Parties(
        referring_officer=OFFICER,
        case_manager=Recipient(agency="county-mental-health", subject="cm-9"),
        prosecutor_agency="oakland-prosecutor",
        case_management_agency="pontiac-case-management",
    )
    facts = coarse_facts(EXPECTED["IntakeWindowMissed"][0])
    told = notifications_for("IntakeWindowMissed", facts, elsewhere)
    assert Recipient(agency="county-mental-health", role="supervisor") in {
        n.recipient for n in told
    }


def test_events_without_a_rule_tell_nobody_anything() -> None:
    assert notifications_for("ContactLogged", coarse_facts({"case_id": CASE}), PARTIES) == []


@pytest.mark.parametrize(
    ("door", "in_time"),
    [("arrest_diversion", False), ("social_contact", None), ("community", None)],
)
def test_no_filing_is_expected_only_of_an_arrest_diversion_assessed_in_time(
    door: str, in_time: bool | None
) -> None:
    facts = coarse_facts({"case_id": CASE, "door": door, "within_intake_window": in_time})
    assert notifications_for("IntakeAssessmentCompleted", facts, PARTIES) == []

"""Who is told what, for each event: a table keyed by event type name (DESIGN.md rules 7-9).

Each rule names an audience and the words it is told. The words are written from `CoarseFacts`
only (see `coarse.py`), so what an officer or a prosecutor reads cannot hold a clinical detail.
`WIRED` says which events the consumer takes; every rule in `TRIGGERS` is wired.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal
from uuid import UUID

from notify.domain.coarse import STATUS_WORDS, CoarseFacts, CoarseStatus

Audience = Literal["referring_officer", "liaison_prosecutor", "case_manager", "supervisors"]
LAW_ENFORCEMENT: frozenset[Audience] = frozenset({"referring_officer", "liaison_prosecutor"})

# Wiring an event is adding its name here: its rules are already in TRIGGERS, and the durable
# consumer's filter is updated in place on the next start (JetStream edits a durable's subjects
# and delivers the new ones from its ack floor on, so past events of the new type are not sent).
WIRED: tuple[str, ...] = (
    "EligibilityDecided",
    "CaseOpened",
    "CaseManagerAssigned",
    "NonComplianceReported",
    "CaseClosed",
    "ProgressReportDue",
    "IntakeWindowMissed",
    "ClientBecameInactive",
    "NewArrestReported",
    "IntakeAssessmentCompleted",
)


@dataclass(frozen=True)
class Recipient:
    """A person (`subject` set), or an office: every member of `agency` holding `role`."""

    agency: str
    subject: str | None = None
    role: str | None = None

    @property
    def is_office(self) -> bool:
        return self.subject is None


@dataclass(frozen=True)
class Parties:
    """Who plays which part for one referral or case, as notify's read models know it."""

    referral_id: UUID | None = None
    referring_officer: Recipient | None = None
    case_manager: Recipient | None = None
    prosecutor_agency: str | None = None
    case_management_agency: str | None = None
    # The case's opening was seen: a case manager missing now is not yet assigned, not late.
    case_known: bool = False


class RecipientUnknown(LookupError):
    """A rule's audience cannot be resolved yet (e.g. the case's opening was not seen)."""


@dataclass(frozen=True)
class Text:
    subject: str
    body: str


@dataclass(frozen=True)
class Rule:
    audience: Audience
    write: Callable[[CoarseFacts], Text]


@dataclass(frozen=True)
class Trigger:
    context: str
    rules: tuple[Rule, ...]
    applies: Callable[[CoarseFacts], bool] = field(default=lambda _facts: True)
    # The coarse status the event puts the participant in, if it speaks of one.
    status: Callable[[CoarseFacts], CoarseStatus | None] = field(default=lambda _facts: None)


@dataclass(frozen=True)
class Notification:
    trigger: str
    audience: Audience
    recipient: Recipient
    text: Text
    coarse_status: CoarseStatus | None


def _ref(facts: CoarseFacts) -> str:
    return f"referral {facts.referral_id}" if facts.referral_id else f"case {facts.case_id}"


def _status_line(status: CoarseStatus) -> str:
    return f"Status: {STATUS_WORDS[status]}."


def _officer_case_opened(f: CoarseFacts) -> Text:
    return Text(
        "Your referral is working with a case manager",
        f"The person you referred ({_ref(f)}) has been accepted into the programme and is "
        f"working with a case manager. {_status_line('working_with_case_manager')}",
    )


def _prosecutor_review_needed(f: CoarseFacts) -> Text:
    return Text(
        "A referral awaits your review",
        f"{_ref(f).capitalize()} needs the liaison prosecutor's review before it can be "
        "admitted. Open the review queue in intake to decide.",
    )


def _case_manager_assigned(f: CoarseFacts) -> Text:
    return Text(
        "A case has been assigned to you",
        f"You are now the case manager of case {f.case_id}. Please arrange the intake "
        "assessment within the site's intake window.",
    )


def _non_compliance(f: CoarseFacts) -> Text:
    return Text(
        "Non-compliance reported",
        f"The case manager reported non-compliance with a programme condition ({_ref(f)}). "
        f"{_status_line('non_compliant')}",
    )


def _prosecutor_non_compliance(f: CoarseFacts) -> Text:
    base = _non_compliance(f)
    return Text(
        base.subject,
        f"{base.body} Please record whether the participant continues "
        "in the programme or the original charge is filed.",
    )


def _closed(f: CoarseFacts) -> Text:
    return Text(
        "Participation closed",
        f"The case of the person you referred ({_ref(f)}) is closed. {_status_line('closed')}",
    )


def _progress_report(f: CoarseFacts) -> Text:
    status = f.coarse_status or "working_with_case_manager"
    number = f" #{f.report_number}" if f.report_number else ""
    return Text(
        f"Progress report{number}",
        f"Progress of the person you referred ({_ref(f)}). {_status_line(status)}",
    )


def _intake_missed(f: CoarseFacts) -> Text:
    ended = f" (the window ended {f.window_ended_at:%Y-%m-%d})" if f.window_ended_at else ""
    return Text(
        "Intake window missed",
        f"The intake assessment was not completed within the intake window{ended} "
        f"({_ref(f)}); the referral returns to the liaison prosecutor. "
        f"{_status_line('not_engaged')}",
    )


def _prosecutor_intake_missed(f: CoarseFacts) -> Text:
    base = _intake_missed(f)
    return Text(base.subject, f"{base.body} Please decide whether to file the original charge.")


def _supervisor_intake_overdue(f: CoarseFacts) -> Text:
    ended = f" (the window ended {f.window_ended_at:%Y-%m-%d})" if f.window_ended_at else ""
    return Text(
        "Intake overdue",
        f"The intake assessment of case {f.case_id} was not completed within the intake "
        f"window{ended}.",
    )


def _case_manager_inactive(f: CoarseFacts) -> Text:
    return Text(
        "Participant inactive",
        f"The participant of case {f.case_id} has had no contact for the site's inactivity "
        "period and is now inactive (still enrolled). The next contact makes them active again.",
    )


def _new_arrest(f: CoarseFacts) -> Text:
    on = f" on {f.arrested_on:%Y-%m-%d}" if f.arrested_on else ""
    return Text(
        "New arrest of a participant",
        f"A participant ({_ref(f)}) was arrested again{on}.",
    )


def _no_filing_expected(f: CoarseFacts) -> Text:
    return Text(
        "No filing expected",
        f"The intake assessment of the arrest diversion ({_ref(f)}) was completed within the "
        "intake window: the participant is enrolled and no filing is expected. "
        f"{_status_line('working_with_case_manager')}",
    )


def _in_time(f: CoarseFacts) -> bool:
    return f.door == "arrest_diversion" and f.within_intake_window is True


TRIGGERS: Mapping[str, Trigger] = {
    "EligibilityDecided": Trigger(
        "intake",
        (Rule("liaison_prosecutor", _prosecutor_review_needed),),
        applies=lambda f: f.decision == "needs_review",
    ),
    "CaseOpened": Trigger(
        "casework",
        (Rule("referring_officer", _officer_case_opened),),
        status=lambda _f: "working_with_case_manager",
    ),
    "CaseManagerAssigned": Trigger("casework", (Rule("case_manager", _case_manager_assigned),)),
    "NonComplianceReported": Trigger(
        "casework",
        (
            Rule("referring_officer", _non_compliance),
            Rule("liaison_prosecutor", _prosecutor_non_compliance),
        ),
        status=lambda _f: "non_compliant",
    ),
    "CaseClosed": Trigger(
        "casework", (Rule("referring_officer", _closed),), status=lambda _f: "closed"
    ),
    # Rules for casework's timeline events, ready to be wired once they are in contracts.
    "ProgressReportDue": Trigger(
        "casework",
        (Rule("referring_officer", _progress_report),),
        status=lambda f: f.coarse_status or "working_with_case_manager",
    ),
    "IntakeWindowMissed": Trigger(
        "casework",
        (
            Rule("referring_officer", _intake_missed),
            Rule("liaison_prosecutor", _prosecutor_intake_missed),
            Rule("supervisors", _supervisor_intake_overdue),
        ),
        status=lambda _f: "not_engaged",
    ),
    "ClientBecameInactive": Trigger("casework", (Rule("case_manager", _case_manager_inactive),)),
    "NewArrestReported": Trigger(
        "casework",
        (Rule("liaison_prosecutor", _new_arrest), Rule("case_manager", _new_arrest)),
    ),
    # DESIGN.md rule 4: done in time, the prosecutor is told no filing is expected. A late
    # assessment was already returned to them by IntakeWindowMissed.
    "IntakeAssessmentCompleted": Trigger(
        "casework",
        (Rule("liaison_prosecutor", _no_filing_expected),),
        applies=_in_time,
        status=lambda _f: "working_with_case_manager",
    ),
}


def notifications_for(event_type: str, facts: CoarseFacts, parties: Parties) -> list[Notification]:
    """Who is told what about one event; [] for events without rules or that do not apply."""
    trigger = TRIGGERS.get(event_type)
    if trigger is None or not trigger.applies(facts):
        return []
    status = trigger.status(facts)
    return [
        Notification(
            event_type,
            rule.audience,
            recipient_of(rule.audience, parties),
            rule.write(facts),
            status,
        )
        for rule in trigger.rules
    ]


def recipient_of(audience: Audience, parties: Parties) -> Recipient:
    match audience:
        case "referring_officer":
            found = parties.referring_officer
        case "case_manager":
            # A case nobody is assigned yet: its agency's supervisors, who assign it, are told
            # instead; waiting for an assignment would hold back everyone else's message too.
            found = parties.case_manager or (
                _office(parties.case_management_agency, "supervisor")
                if parties.case_known
                else None
            )
        case "liaison_prosecutor":
            found = _office(parties.prosecutor_agency, "prosecutor")
        case "supervisors":
            agency = parties.case_manager.agency if parties.case_manager else None
            found = _office(agency or parties.case_management_agency, "supervisor")
    if found is None:
        raise RecipientUnknown(f"no {audience.replace('_', ' ')} is known yet")
    return found


def _office(agency: str | None, role: str) -> Recipient | None:
    return Recipient(agency=agency, role=role) if agency else None


def subjects_of(subject_root: str, wired: Sequence[str] = WIRED) -> list[str]:
    """The bus subjects of the wired events, in every jurisdiction."""
    return [f"{subject_root}.*.{TRIGGERS[name].context}.{name}" for name in wired]

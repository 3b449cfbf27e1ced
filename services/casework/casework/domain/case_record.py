"""A case as its case-management agency reads it, folded from the case's own stream: the
intervention plan's goals in their wording, the service referrals with their provider and latest
outcome, and the case's history in plain words.

All of it is learned in care, so only case staff ever read it (`casework.entrypoints.
http_cases`); law enforcement's projections are built elsewhere and carry none of it. Pure: the
stream comes in, the reading goes out.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from offramp_contracts import Actor, EventEnvelope, EventPayload, payload_of
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
    ServiceKind,
    ServiceOutcome,
    ServiceReferralMade,
    ServiceReferralOutcomeRecorded,
)
from offramp_contracts.events.circumstances import CircumstancesRecorded
from offramp_contracts.events.consent import ConsentGranted, ConsentRevoked, InformationDisclosed
from offramp_contracts.lifecycle import GoalStatus


@dataclass(frozen=True)
class GoalRecord:
    goal_id: UUID
    status: GoalStatus
    description: str
    """The goal's wording: what it was added with, or its last rewording."""
    note: str
    """What the case manager wrote when the goal was achieved or dropped, if anything."""
    added_at: datetime
    changed_at: datetime


@dataclass(frozen=True)
class ServiceReferralRecord:
    service_referral_id: UUID
    service: ServiceKind
    provider: str
    notes: str
    referred_at: datetime
    outcome: ServiceOutcome | None
    outcome_notes: str
    outcome_at: datetime | None


@dataclass(frozen=True)
class Plan:
    goals: tuple[GoalRecord, ...]
    service_referrals: tuple[ServiceReferralRecord, ...]


@dataclass(frozen=True)
class HistoryEntry:
    event_id: UUID
    event_type: str
    occurred_at: datetime
    recorded_at: datetime
    actor: Actor
    summary: str
    """One line a case manager reads: what happened, in words."""


def plan_of(events: Iterable[EventEnvelope]) -> Plan:
    """The goals and service referrals in the order they were made, each as it stands now."""
    goals: dict[UUID, GoalRecord] = {}
    referrals: dict[UUID, ServiceReferralRecord] = {}
    for envelope in events:
        at = envelope.occurred_at
        match payload_of(envelope):
            case InterventionPlanUpdated(goal_id=goal_id, change="added", description=text):
                goals[goal_id] = GoalRecord(goal_id, "open", text, "", at, at)
            case InterventionPlanUpdated(goal_id=goal_id, change=change, description=text):
                goal = goals.get(goal_id)
                if goal is None:
                    continue
                if change == "updated":
                    goals[goal_id] = replace(
                        goal, description=text or goal.description, changed_at=at
                    )
                else:
                    status: GoalStatus = "achieved" if change == "achieved" else "dropped"
                    goals[goal_id] = replace(goal, status=status, note=text, changed_at=at)
            case ServiceReferralMade() as made:
                referrals[made.service_referral_id] = ServiceReferralRecord(
                    made.service_referral_id,
                    made.service,
                    made.provider,
                    made.notes,
                    at,
                    None,
                    "",
                    None,
                )
            case ServiceReferralOutcomeRecorded() as recorded:
                referral = referrals.get(recorded.service_referral_id)
                if referral is not None:
                    referrals[recorded.service_referral_id] = replace(
                        referral,
                        outcome=recorded.outcome,
                        outcome_notes=recorded.notes,
                        outcome_at=at,
                    )
    return Plan(tuple(goals.values()), tuple(referrals.values()))


def history_of(events: Iterable[EventEnvelope]) -> list[HistoryEntry]:
    """Every event of the case's stream, oldest first, each with its line. A goal's change and
    a referral's outcome name the goal or referral they are about, as the case knew it then."""
    goals: dict[UUID, str] = {}
    referrals: dict[UUID, str] = {}
    entries = []
    for envelope in events:
        payload = payload_of(envelope)
        match payload:
            case InterventionPlanUpdated(goal_id=goal_id, change=change, description=text):
                if change in ("added", "updated") and text:
                    goals[goal_id] = text
                line = _goal_line(change, text, goals.get(goal_id, ""))
            case ServiceReferralOutcomeRecorded(service_referral_id=referral_id, outcome=outcome):
                about = referrals.get(referral_id, "service referral")
                line = f"Outcome of {about}: {_words(outcome)}"
            case _:
                line = summary_of(payload)
        if isinstance(payload, ServiceReferralMade):
            referrals[payload.service_referral_id] = line.removeprefix("Referred to ")
        entries.append(
            HistoryEntry(
                event_id=envelope.event_id,
                event_type=envelope.event_type,
                occurred_at=envelope.occurred_at,
                recorded_at=envelope.recorded_at,
                actor=envelope.actor,
                summary=line,
            )
        )
    return entries


def _goal_line(change: str, text: str, wording: str) -> str:
    if change in ("added", "updated"):
        return f"Goal {change}{_quoted(text)}"
    note = f" (note: {text})" if text else ""
    return f"Goal {change}{_quoted(wording)}{note}"


def _words(code: str) -> str:
    return code.replace("_", " ")


def _quoted(text: str) -> str:
    return f": “{text}”" if text else ""


def summary_of(payload: EventPayload) -> str:
    """The event in one plain line. Free-text notes stay in the records they belong to; the
    wording of goals and the provider of a referral are what the line is about."""
    match payload:
        case CaseOpened(door=door, referring_officer=officer, policy_version=version):
            return f"Case opened: {_words(door)} by {officer.subject} ({officer.agency}), policy {version}"
        case CaseManagerAssigned(case_manager=manager, previous_case_manager=None):
            return f"Case manager {manager.subject} assigned"
        case CaseManagerAssigned(case_manager=manager, previous_case_manager=previous):
            assert previous is not None
            return f"Case reassigned from {previous.subject} to {manager.subject}"
        case IntakeAssessmentCompleted(assessment=assessment, within_intake_window=within):
            needs = ", ".join(sorted(_words(n) for n in assessment.needs)) or "none named"
            timing = "" if within is None else "; in time" if within else "; after the window"
            return f"Intake assessment completed; needs: {needs}{timing}"
        case IntakeWindowMissed(window_ended_at=ended):
            return (
                f"Intake window missed (ended {ended:%Y-%m-%d %H:%M} UTC): back to the prosecutor"
            )
        case ContactLogged(method=method, contacted_at=at):
            return f"Contact ({_words(method)}) on {at:%Y-%m-%d %H:%M} UTC"
        case ClientEngaged():
            return "Engaged: the first contact with the case manager"
        case ClientBecameInactive(inactive_since=since):
            return f"Inactive since {since:%Y-%m-%d}: no contact for the inactivity period (still enrolled)"
        case ClientBecameActive():
            return "Active again after a contact"
        case InterventionPlanUpdated(change=change, description=text):
            return f"Goal {change}{_quoted(text)}"
        case ServiceReferralMade(service=service, provider=provider):
            return f"Referred to {_words(service)} at {provider}"
        case ServiceReferralOutcomeRecorded(outcome=outcome):
            return f"Service referral outcome: {_words(outcome)}"
        case ProgressReportDue(report_number=number, coarse_status=status):
            return f"Progress report {number} due to the referring officer: {_words(status)}"
        case NonComplianceReported(condition=condition):
            return f"Non-compliance reported: {condition}"
        case ProsecutorDecisionRecorded(decision=decision, prosecutor=prosecutor):
            return f"Prosecutor {prosecutor.subject} decided: {_words(decision)}"
        case NewArrestReported(arrested_on=day, reporter_role=role):
            return f"New arrest on {day:%Y-%m-%d}, reported by the {role}"
        case CircumstancesRecorded(at_intake=at_intake, as_of=day):
            return (
                f"Circumstances recorded{' at intake' if at_intake else ''}, as of {day:%Y-%m-%d}"
            )
        case ConsentGranted(recipient=recipient):
            return (
                f"Release of information recorded, to {recipient.agency} ({_words(recipient.role)})"
            )
        case ConsentRevoked(method=method):
            return f"Release of information revoked ({_words(method)})"
        case InformationDisclosed(recipient=recipient, recipient_role=role):
            return (
                f"Information disclosed to {recipient.subject} ({_words(role)}, {recipient.agency})"
            )
        case CaseClosed(reason=reason):
            return f"Case closed: {_words(reason)}"
    return _words(payload.event_type)

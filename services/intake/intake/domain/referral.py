"""A referral's life in intake: received and decided, perhaps reviewed, then admitted,
waitlisted, refused or withdrawn. State is a fold over its events; each command is a pure
decision that returns the new events or refuses with a reason."""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal
from uuid import UUID

from intake.domain.eligibility import Candidate, evaluate
from offramp_contracts import EventPayload
from offramp_contracts.events.base import Door, StaffRef
from offramp_contracts.events.intake import (
    EligibilityDecided,
    Offence,
    Person,
    ReferralAdmitted,
    ReferralReceived,
    ReferralReviewed,
    ReferralWaitlisted,
    ReferralWithdrawn,
    Screening,
)
from offramp_contracts.profile import ReferralSource, SiteProfile
from servicekit.refusals import Refusal

Status = Literal["awaiting_review", "ineligible", "eligible", "waitlisted", "admitted", "withdrawn"]
"""The coarse status the referring officer sees. `eligible` lasts only inside the transaction
that also admits or waitlists the referral."""


# A refused command stored nothing; the status says whether to fix the request or the situation.
REFUSAL_STATUS = {
    "door-closed": 422,
    "source-not-allowed": 422,
    "idempotency-key-reused": 422,
    "no-programme": 403,
    "not-a-referrer": 403,
    "door-not-yours": 403,
    "source-not-yours": 422,
    "not-awaiting-review": 409,
    "cannot-withdraw": 409,
    "not-eligible": 409,
    "no-place": 409,
}


class Refused(Refusal):
    """A command this referral, or this site, cannot accept. `kind` names the refusal."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.status = REFUSAL_STATUS.get(kind, 409)


@dataclass(frozen=True)
class SubmitReferral:
    """`referring_officer` is whoever enters the referral; `entered_as` the role they act in
    (an officer, or a community referrer the site's profile names)."""

    referral_id: UUID
    door: Door
    source: ReferralSource
    person: Person
    offence: Offence
    screening: Screening
    referring_officer: StaffRef
    entered_as: str = "officer"


@dataclass(frozen=True)
class Referral:
    referral_id: UUID
    door: Door
    referring_officer: StaffRef
    policy_version: str
    status: Status
    version: int


def evolve(state: Referral | None, event: EventPayload) -> Referral:
    match state, event:
        case None, ReferralReceived():
            return Referral(
                referral_id=event.referral_id,
                door=event.door,
                referring_officer=event.referring_officer,
                policy_version=event.policy_version,
                status="awaiting_review",
                version=1,
            )
        case Referral(), EligibilityDecided():
            status: Status = (
                "awaiting_review" if event.decision == "needs_review" else event.decision
            )
            return replace(state, status=status, version=state.version + 1)
        case Referral(), ReferralReviewed():
            return replace(state, version=state.version + 1)
        case Referral(), ReferralWaitlisted():
            return replace(state, status="waitlisted", version=state.version + 1)
        case Referral(), ReferralAdmitted():
            return replace(state, status="admitted", version=state.version + 1)
        case Referral(), ReferralWithdrawn():
            return replace(state, status="withdrawn", version=state.version + 1)
    raise ValueError(f"{type(event).__name__} cannot follow {state!r}")


def fold(events: Iterable[EventPayload]) -> Referral | None:
    state: Referral | None = None
    for event in events:
        state = evolve(state, event)
    return state


def receive(
    command: SubmitReferral, profile: SiteProfile, *, judged_on: date
) -> tuple[ReferralReceived, EligibilityDecided]:
    """Refuses a door the site has not opened or a source it does not accept: those are not
    decisions about the person but a referral the site cannot take at all."""
    if command.entered_as != "officer":
        _check_community_referrer(command, profile)
    if command.door not in profile.doors:
        raise Refused(
            "door-closed",
            f"{profile.name} does not take {command.door} referrals; its doors are "
            f"{', '.join(sorted(profile.doors))}",
        )
    if command.source not in profile.referral_sources:
        raise Refused(
            "source-not-allowed",
            f"{profile.name} does not accept referrals from source {command.source!r}; it "
            f"accepts {', '.join(sorted(profile.referral_sources))}",
        )
    evaluation = evaluate(
        Candidate(
            door=command.door,
            person=command.person,
            offence=command.offence,
            screening=command.screening,
            judged_on=judged_on,
        ),
        profile,
    )
    received = ReferralReceived(
        referral_id=command.referral_id,
        door=command.door,
        source=command.source,
        person=command.person,
        offence=command.offence,
        screening=command.screening,
        referring_officer=command.referring_officer,
        policy_version=profile.version,
    )
    decided = EligibilityDecided(
        referral_id=command.referral_id,
        decision=evaluation.decision,
        decided_by="policy",
        rules=evaluation.rules,
        door=command.door,
        referring_officer=command.referring_officer,
        policy_version=profile.version,
    )
    return received, decided


COMMUNITY_SOURCES: frozenset[ReferralSource] = frozenset(
    {"self", "family_or_friend", "community_partner"}
)


def _check_community_referrer(command: SubmitReferral, profile: SiteProfile) -> None:
    """Anyone but an officer enters only what the profile gives them: the community door, on
    the person's own, their family's or a partner's behalf; an arrest or a social contact is
    law enforcement's to refer."""
    referrers = profile.community_referrers
    who = command.referring_officer
    if (
        referrers is None
        or who.agency != referrers.agency
        or command.entered_as not in referrers.roles
    ):
        raise Refused(
            "not-a-referrer",
            f"{profile.name} does not let a {command.entered_as.replace('_', ' ')} of {who.agency} "
            "enter referrals; referrals come from law enforcement"
            + (
                f", and community referrals from {referrers.agency}"
                if referrers is not None
                else ""
            ),
        )
    if command.door != "community":
        raise Refused(
            "door-not-yours",
            f"only law enforcement refers through the {command.door} door; a community "
            "referrer enters community referrals only",
        )
    if command.source not in COMMUNITY_SOURCES:
        raise Refused(
            "source-not-yours",
            f"a community referral is made by the person, their family or friends, or a "
            f"community partner, not {command.source!r}; name the source that asked",
        )


def review(
    referral: Referral,
    *,
    verdict: Literal["approved", "declined"],
    reason: str,
    reviewer: StaffRef,
    rules: EligibilityDecided,
) -> tuple[ReferralReviewed, EligibilityDecided]:
    """The prosecutor's verdict becomes the final decision; `rules` is the decision that sent
    the referral to review, whose explanations the final decision keeps."""
    if referral.status != "awaiting_review":
        raise Refused(
            "not-awaiting-review",
            f"referral {referral.referral_id} is {referral.status}, not awaiting review",
        )
    reviewed = ReferralReviewed(
        referral_id=referral.referral_id, verdict=verdict, reason=reason, reviewer=reviewer
    )
    decided = EligibilityDecided(
        referral_id=referral.referral_id,
        decision="eligible" if verdict == "approved" else "ineligible",
        decided_by="prosecutor",
        rules=rules.rules,
        door=referral.door,
        referring_officer=referral.referring_officer,
        policy_version=referral.policy_version,
    )
    return reviewed, decided


def place(referral: Referral, *, has_place: bool) -> ReferralAdmitted | ReferralWaitlisted:
    """An eligible referral is admitted if the site has a place, and waitlisted otherwise; a
    waitlisted one is admitted when a place frees up."""
    if referral.status not in {"eligible", "waitlisted"}:
        raise Refused("not-eligible", f"referral {referral.referral_id} is {referral.status}")
    if has_place:
        return ReferralAdmitted(
            referral_id=referral.referral_id,
            door=referral.door,
            referring_officer=referral.referring_officer,
            policy_version=referral.policy_version,
            from_waitlist=referral.status == "waitlisted",
        )
    if referral.status == "waitlisted":
        raise Refused("no-place", f"referral {referral.referral_id} is already waitlisted")
    return ReferralWaitlisted(
        referral_id=referral.referral_id,
        door=referral.door,
        referring_officer=referral.referring_officer,
    )


WITHDRAWABLE: frozenset[Status] = frozenset({"awaiting_review", "eligible", "waitlisted"})


def withdraw(referral: Referral, *, by: StaffRef, reason: str) -> ReferralWithdrawn:
    """Only before a case opens: once admitted, the case is the case manager's to close."""
    if referral.status not in WITHDRAWABLE:
        detail = {
            "admitted": "its case is already open; ask the case manager to close it",
            "withdrawn": "it was already withdrawn",
            "ineligible": "it was found ineligible and never entered the programme",
        }.get(referral.status, f"it is {referral.status}")
        raise Refused(
            "cannot-withdraw", f"referral {referral.referral_id} cannot be withdrawn: {detail}"
        )
    return ReferralWithdrawn(referral_id=referral.referral_id, withdrawn_by=by, reason=reason)

"""A referral's history as the reports read it: its facts folded in the order they were
recorded, and what it came to (admitted, waitlisted, withdrawn, declined, ineligible, pending)."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal
from uuid import UUID

from outcomes.domain.facts import CaseLink, Fact, ReferralFact

Standing = Literal[
    "admitted",
    "waitlisted",
    "withdrawn",
    "declined_at_review",
    "ineligible",
    "awaiting_review",
    "awaiting_decision",
]
STANDINGS: tuple[Standing, ...] = (
    "admitted",
    "waitlisted",
    "withdrawn",
    "declined_at_review",
    "ineligible",
    "awaiting_review",
    "awaiting_decision",
)


@dataclass(frozen=True)
class Status:
    """A housing, income or employment status from a day on."""

    on: date
    value: str


@dataclass
class ReferralHistory:
    referral: ReferralFact
    decision: str | None = None
    ineligible_by_policy: bool = False
    failed_rules: set[str] = field(default_factory=set)
    review: str | None = None
    waitlisted_on: date | None = None
    admitted_on: date | None = None
    admitted_from_waitlist: bool = False
    withdrawn_on: date | None = None
    opened: bool = False
    assessed_on: date | None = None
    assessment_timing: str | None = None
    window_missed_on: date | None = None
    prosecutor_decisions: list[str] = field(default_factory=list)
    contacts: list[date] = field(default_factory=list)
    engaged_on: date | None = None
    inactive: bool = False
    ever_inactive: bool = False
    closed_on: date | None = None
    closure_reason: str | None = None
    arrests: list[date] = field(default_factory=list)
    housing: list[Status] = field(default_factory=list)
    income: list[Status] = field(default_factory=list)
    employment: list[Status] = field(default_factory=list)

    @property
    def standing(self) -> Standing:
        if self.admitted_on is not None:
            return "admitted"
        if self.withdrawn_on is not None:
            return "withdrawn"
        if self.review == "declined":
            return "declined_at_review"
        if self.decision == "ineligible":
            return "ineligible"
        if self.waitlisted_on is not None:
            return "waitlisted"
        if self.decision == "needs_review":
            return "awaiting_review"
        return "awaiting_decision"

    @property
    def eligible_not_diverted(self) -> bool:
        """Eligible but not admitted: waitlisted, withdrawn or declined at review, unless the
        site's rules had already found the person ineligible."""
        return (
            self.standing in ("waitlisted", "withdrawn", "declined_at_review")
            and not self.ineligible_by_policy
        )

    def apply(self, fact: Fact) -> None:
        """Fold one fact (facts arrive in the order they were recorded)."""
        match fact.kind:
            case "decided":
                self.decision = fact.value
                if fact.value == "ineligible" and self.review is None:
                    self.ineligible_by_policy = True
            case "failed_rule":
                self.failed_rules.add(str(fact.value))
            case "reviewed":
                self.review = fact.value
            case "waitlisted":
                self.waitlisted_on = fact.on
            case "admitted":
                self.admitted_on = fact.on
                self.admitted_from_waitlist = fact.value == "from_waitlist"
            case "withdrawn":
                self.withdrawn_on = fact.on
            case "assessed":
                self.assessed_on, self.assessment_timing = fact.on, fact.value
            case "window_missed":
                self.window_missed_on = fact.on
            case "prosecutor_decision":
                self.prosecutor_decisions.append(str(fact.value))
            case "contact":
                self.contacts.append(fact.on)
            case "engaged":
                self.engaged_on = fact.on
            case "inactive":
                self.inactive = self.ever_inactive = True
            case "active":
                self.inactive = False
            case "housing" | "income" | "employment":
                getattr(self, fact.kind).append(Status(fact.on, str(fact.value)))
            case "arrest":
                self.arrests.append(fact.on)
            case "closed":
                self.closed_on, self.closure_reason = fact.on, fact.value


def histories(
    referrals: Iterable[ReferralFact], cases: Iterable[CaseLink], facts: Iterable[Fact]
) -> dict[UUID, ReferralHistory]:
    """Every referral's history; facts must come in the order they were recorded. A case fact
    whose case (or a referral fact whose referral) is not known yet waits in the read model
    and simply is not counted until it is."""
    found = {r.referral_id: ReferralHistory(r) for r in referrals}
    referral_of: Mapping[UUID, UUID] = {c.case_id: c.referral_id for c in cases}
    for opened in referral_of.values():
        if opened in found:
            found[opened].opened = True
    for fact in facts:
        owner = fact.referral_id or (referral_of.get(fact.case_id) if fact.case_id else None)
        history = found.get(owner) if owner else None
        if history is not None:
            history.apply(fact)
    return found

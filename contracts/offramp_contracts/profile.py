"""A site's policy as versioned data (DESIGN.md rule 13 and section 5).

A jurisdiction's profile says which doors are open, which eligibility rules apply with which
limits, how long the intake window, the progress-report interval and the inactivity period are,
how many participants the programme can hold, and who has the final say. Intake decides
referrals under it and casework times cases by it; every referral records the version it was
decided under, and a case keeps that version for its whole life.

Pure: this module validates a profile's content. Reading profile files is the services' job.
"""

from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from offramp_contracts.envelope import JURISDICTION_PATTERN
from offramp_contracts.events.base import Door

ReferralSource = Literal["law_enforcement", "self", "family_or_friend", "community_partner"]
"""Who asked for the referral. An officer always may; the others only where a site allows it.
`community_partner` is a service provider or outreach worker who asks on the person's behalf."""

AreaUnit = Literal["precinct", "beat", "zip_code"]

Duration = Annotated[timedelta, Field(gt=timedelta(0))]
"""ISO 8601 (`P14D`, `PT30S`) or a number of seconds, so tests can run a 14-day window in seconds."""


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    doors: frozenset[Door] | None = Field(
        default=None, description="The doors the rule applies to; every door when omitted."
    )

    def applies_to(self, door: Door) -> bool:
        return self.doors is None or door in self.doors


class DrugQuantityLimit(_Rule):
    """Possession above the site's limit (e.g. 3 g, another site 6 g) is not diverted."""

    rule: Literal["drug_quantity"]
    limit_grams: Decimal = Field(gt=0, le=1000)


class PriorViolentFelony(_Rule):
    rule: Literal["prior_violent_felony"]


class ExploitsMinors(_Rule):
    rule: Literal["exploits_minors"]


class PromotesProstitution(_Rule):
    rule: Literal["promotes_prostitution"]


class DealingAboveSubsistence(_Rule):
    rule: Literal["dealing_above_subsistence"]


class Under18(_Rule):
    rule: Literal["under_18"]


class ConfidentialInformant(_Rule):
    """LEAD is not an informant programme: a confidential informant is never eligible."""

    rule: Literal["confidential_informant"]


class PendingSpecialtyCourt(_Rule):
    """A pending drug-court or mental-health-court case."""

    rule: Literal["pending_specialty_court"]


class NoContactOrder(_Rule):
    """A no-contact order protecting a current participant."""

    rule: Literal["no_contact_order"]


class ComplainantObjects(_Rule):
    """The complainant of a theft objects to diversion."""

    rule: Literal["complainant_objects"]


class PriorAreaActivity(_Rule):
    """Social contact: verified prior low-level activity inside the programme area, recently."""

    rule: Literal["prior_area_activity"]
    lookback_months: int = Field(default=24, ge=1, le=120)


EligibilityRule = Annotated[
    DrugQuantityLimit
    | PriorViolentFelony
    | ExploitsMinors
    | PromotesProstitution
    | DealingAboveSubsistence
    | Under18
    | ConfidentialInformant
    | PendingSpecialtyCourt
    | NoContactOrder
    | ComplainantObjects
    | PriorAreaActivity,
    Field(discriminator="rule"),
]

CHARTER_RULES: tuple[str, ...] = ("confidential_informant", "exploits_minors")
"""Rules that are LEAD's, not the site's: a profile must apply them to every door it opens.

LEAD is never an informant programme (DESIGN.md rule 2, seed 003: officers may not even ask a
participant for source information), and every programme's published criteria exclude people
who exploit minors (seed 004). Other rules (drug limits, prior violent felonies, specialty
courts) differ between sites, so they stay the site's choice."""

RULE_NAMES: tuple[str, ...] = tuple(
    get_args(model.model_fields["rule"].annotation)[0]
    for model in get_args(get_args(EligibilityRule)[0])
)
"""Every rule a profile may name, in the order above."""


class ProgrammeArea(BaseModel):
    """Where the programme works, as data: the precincts, beats or ZIP codes it covers. The
    social-contact rule asks whether the person's prior activity was inside it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    unit: AreaUnit
    places: frozenset[Annotated[str, Field(min_length=1, max_length=50)]] = Field(min_length=1)

    def contains(self, place: str) -> bool:
        return place.strip().casefold() in {known.casefold() for known in self.places}

    def describe(self) -> str:
        unit = {"precinct": "precincts", "beat": "beats", "zip_code": "ZIP codes"}[self.unit]
        return f"{self.name} ({unit} {', '.join(sorted(self.places))})"


class CommunityReferrers(BaseModel):
    """Who may enter a referral through the community door on the person's behalf (a referral
    by a community partner, or a self or family referral where the site allows them): staff of
    one agency in the roles named. They may enter nothing else."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agency: str = Field(min_length=1, max_length=200)
    roles: frozenset[Literal["case_manager", "supervisor"]] = Field(min_length=1)


class LegalCaps(BaseModel):
    """Limits set by law or by the programme's charter, which the profile's own values may not
    exceed; a profile that breaks one is refused when it is loaded."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    intake_window: Duration = Field(description="The longest intake window the law allows.")
    drug_quantity_grams: Decimal | None = Field(default=None, gt=0)
    adults_only: bool = Field(
        default=True,
        description=(
            "Whether the law forbids diverting a person under 18 into this programme. While it "
            "does, the profile must keep the under_18 rule on every door it opens."
        ),
    )


AgencyKind = Literal["law_enforcement", "prosecution", "defence", "care", "county"]
"""What kind of agency a token's `agency` is, as the site's profile says: never read from a role
name, so a police supervisor is never taken for a case-management supervisor (issue 14)."""

AgencyName = Annotated[str, Field(min_length=1, max_length=200)]


class Agencies(BaseModel):
    """Which agency does what at this site. Agencies are named as in the staff's tokens."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    case_management: AgencyName
    prosecutor: AgencyName
    law_enforcement: frozenset[AgencyName] = Field(
        default=frozenset(), description="Police and sheriff's offices whose officers refer."
    )
    defence: frozenset[AgencyName] = Field(
        default=frozenset(), description="Public defenders' offices."
    )
    county: frozenset[AgencyName] = Field(
        default=frozenset(), description="The county's own offices: audit, analysis, IT."
    )

    @model_validator(mode="after")
    def _one_kind_each(self) -> "Agencies":
        named = [
            self.case_management,
            self.prosecutor,
            *self.law_enforcement,
            *self.defence,
            *self.county,
        ]
        twice = sorted({agency for agency in named if named.count(agency) > 1})
        if twice:
            raise ValueError(
                f"agencies {', '.join(twice)} are named as more than one kind; an agency does "
                "one thing at a site"
            )
        return self

    def kind_of(self, agency: str) -> AgencyKind | None:
        """The kind of `agency` at this site, or None when the profile does not name it."""
        if agency == self.case_management:
            return "care"
        if agency == self.prosecutor:
            return "prosecution"
        if agency in self.law_enforcement:
            return "law_enforcement"
        if agency in self.defence:
            return "defence"
        if agency in self.county:
            return "county"
        return None


class SiteProfile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    jurisdiction: str = Field(pattern=JURISDICTION_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    version: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    effective_from: date
    doors: frozenset[Door] = Field(min_length=1)
    referral_sources: frozenset[ReferralSource] = frozenset({"law_enforcement"})
    rules: tuple[EligibilityRule, ...]
    prosecutor_approves: frozenset[Door] = Field(
        default=frozenset(),
        description=(
            "Doors where the liaison prosecutor has the final say even over a referral that "
            "passes every rule. A referral with an unknown rule always waits for review."
        ),
    )
    capacity: int = Field(ge=1, description="How many cases may be open at once.")
    intake_window: Duration = Field(description="Arrest diversion: time to complete intake.")
    progress_report_interval: Duration
    inactivity_period: Duration
    conditions: tuple[str, ...] = Field(
        default=(),
        description="Conditions attached to an arrest diversion; empty means none can be breached.",
    )
    agencies: Agencies
    caps: LegalCaps
    area: ProgrammeArea | None = Field(
        default=None, description="Required when a prior_area_activity rule is in force."
    )
    community_referrers: CommunityReferrers | None = Field(
        default=None, description="Who enters community referrals; none means nobody can."
    )

    @model_validator(mode="after")
    def _within_caps_and_consistent(self) -> "SiteProfile":
        if self.intake_window > self.caps.intake_window:
            raise ValueError(
                f"intake_window of {_days(self.intake_window)} is longer than this profile's "
                f"legal cap of {_days(self.caps.intake_window)} (caps.intake_window); "
                "shorten intake_window or correct the cap"
            )
        limit = self.caps.drug_quantity_grams
        for rule in self.rules:
            if (
                isinstance(rule, DrugQuantityLimit)
                and limit is not None
                and rule.limit_grams > limit
            ):
                raise ValueError(
                    f"the drug_quantity rule's limit of {rule.limit_grams} g is above this "
                    f"profile's legal cap of {limit} g (caps.drug_quantity_grams); lower the limit"
                )
        names = [rule.rule for rule in self.rules]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"rules {', '.join(repeated)} appear more than once; keep one each")
        for required in self._required_rules():
            uncovered = self._doors_without(required)
            if uncovered:
                raise ValueError(
                    f"the {required} rule is missing for {', '.join(sorted(uncovered))} "
                    f"referrals: {_WHY_REQUIRED[required]}; add a [[rules]] entry with "
                    f'rule = "{required}" and no doors (or every door the site opens)'
                )
        if self.area is None and "prior_area_activity" in names:
            raise ValueError(
                "the prior_area_activity rule needs the programme area: add an [area] table "
                'with name, unit ("precinct", "beat" or "zip_code") and places'
            )
        if self.community_referrers is not None and "community" not in self.doors:
            raise ValueError(
                "community_referrers are named but the community door is not open; open it in "
                "doors or remove community_referrers"
            )
        closed = self.prosecutor_approves - self.doors
        if closed:
            raise ValueError(
                f"prosecutor_approves names doors the site has not opened ({', '.join(sorted(closed))}); "
                "open them in doors or remove them"
            )
        return self

    def _required_rules(self) -> tuple[str, ...]:
        return CHARTER_RULES + (("under_18",) if self.caps.adults_only else ())

    def _doors_without(self, rule_name: str) -> frozenset[Door]:
        covered: set[Door] = set()
        for rule in self.rules:
            if rule.rule == rule_name:
                covered |= self.doors if rule.doors is None else rule.doors
        return self.doors - covered

    @property
    def key(self) -> tuple[str, str]:
        return (self.jurisdiction, self.version)

    def rules_for(self, door: Door) -> tuple[EligibilityRule, ...]:
        return tuple(rule for rule in self.rules if rule.applies_to(door))


_WHY_REQUIRED: dict[str, str] = {
    "confidential_informant": "LEAD is never an informant programme, so no site may drop it",
    "exploits_minors": "no LEAD programme diverts a person who exploits minors",
    "under_18": (
        "this profile's legal caps forbid diverting a person under 18 (caps.adults_only); "
        "keep the rule, or set caps.adults_only = false only where the law allows minors"
    ),
}


def _days(duration: timedelta) -> str:
    if duration % timedelta(days=1) == timedelta(0):
        return f"{duration.days} days"
    return f"{duration.total_seconds():g} seconds"

"""A participant's circumstances as the case manager records them: housing, income and
employment status, at the intake assessment and whenever one changes (DESIGN.md rule 12).

One event carries all three so that an intake assessment records them in one fact; on a later
change only what changed is given. Each status is learned in care (`CARE_ONLY`): outcomes
reports count them, nobody outside the case-management agency reads them per person.
"""

from datetime import date
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field, model_validator

from offramp_contracts.events.base import Context, EventPayload, StaffRef
from offramp_contracts.events.casework import CARE_ONLY

HousingStatus = Literal["unsheltered", "emergency_shelter", "temporary", "permanent"]
"""Where the participant sleeps: HUD's literal homelessness (unsheltered, emergency shelter),
temporary arrangements (transitional housing, staying with others, a motel) and permanent
housing (own or rented, with or without a subsidy)."""

IncomeStatus = Literal["no_income", "benefits_only", "earned_only", "earned_and_benefits"]
"""Income and benefits: none, public benefits alone (SSI, SSDI, SNAP, TANF, general
assistance), earned income alone, or both."""

EmploymentStatus = Literal["unemployed", "part_time", "full_time", "not_in_labour_force"]
"""Not working and looking, working part time or full time, or neither working nor looking
(disability, retirement, school, caring for someone)."""


class CircumstancesRecorded(EventPayload):
    """Housing, income or employment status from `as_of` on; a status not given is unchanged.
    `at_intake` marks the baseline recorded with the intake assessment."""

    event_type: ClassVar[str] = "CircumstancesRecorded"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "casework"

    case_id: UUID
    referral_id: UUID
    recorded_by: StaffRef
    as_of: date = Field(description="The day the statuses given here hold from.")
    at_intake: bool
    housing: HousingStatus | None = Field(default=None, json_schema_extra=CARE_ONLY)
    income: IncomeStatus | None = Field(default=None, json_schema_extra=CARE_ONLY)
    employment: EmploymentStatus | None = Field(default=None, json_schema_extra=CARE_ONLY)

    @model_validator(mode="after")
    def names_at_least_one_status(self) -> "CircumstancesRecorded":
        if self.housing is None and self.income is None and self.employment is None:
            raise ValueError("give at least one of housing, income and employment")
        return self

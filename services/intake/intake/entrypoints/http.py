"""Intake's HTTP API."""

from datetime import UTC, datetime
from typing import Annotated, Literal
from uuid import UUID

import uuid6
from fastapi import APIRouter, Depends, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from intake.domain.eligibility import PLACEHOLDER_POLICY_VERSION
from intake.domain.referral import SubmitReferral
from intake.service import ReferralStatus, referrals_of_officer, submit_referral
from intake.settings import IntakeSettings
from offramp_contracts.events.base import Door, StaffRef
from offramp_contracts.events.intake import Offence, OffenceCategory, Person
from servicekit.auth import Principal
from servicekit.http import Runtime, correlation_id_of, require_role

router = APIRouter(tags=["referrals"])
Officer = Annotated[Principal, Depends(require_role("officer"))]


class OffenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: OffenceCategory
    description: str = Field(default="", max_length=2000)
    occurred_at: AwareDatetime

    @field_validator("occurred_at")
    @classmethod
    def not_in_future(cls, value: datetime) -> datetime:
        if value > datetime.now(UTC):
            raise ValueError("the offence cannot have happened in the future")
        return value


class ReferralIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    door: Door
    person: Person
    offence: OffenceIn


class ReferralOut(BaseModel):
    """What an officer sees of a referral: its coarse status, nothing from screening or care."""

    referral_id: UUID
    door: str
    status: Literal["eligible", "ineligible", "needs_review"]
    received_at: datetime

    @classmethod
    def of(cls, status: ReferralStatus) -> "ReferralOut":
        return cls(**status.__dict__)


@router.post("/referrals", status_code=201, response_model=ReferralOut)
async def post_referral(
    body: ReferralIn, officer: Officer, runtime: Runtime, request: Request
) -> ReferralOut:
    """Refer a person: stores ReferralReceived and EligibilityDecided in one transaction."""
    settings: IntakeSettings = runtime.settings  # type: ignore[assignment]
    command = SubmitReferral(
        referral_id=uuid6.uuid7(),
        door=body.door,
        person=body.person,
        offence=Offence(**body.offence.model_dump()),
        referring_officer=StaffRef(subject=officer.subject, agency=officer.agency),
    )
    status = await submit_referral(
        runtime.pool,
        runtime.store,
        command,
        jurisdiction=officer.jurisdiction,
        actor=officer.acting_as("officer"),
        correlation_id=correlation_id_of(request),
        open_doors=settings.open_doors,
        policy_version=PLACEHOLDER_POLICY_VERSION,
    )
    return ReferralOut.of(status)


@router.get("/referrals", response_model=list[ReferralOut])
async def my_referrals(officer: Officer, runtime: Runtime) -> list[ReferralOut]:
    """The referrals the calling officer made, with their coarse status."""
    statuses = await referrals_of_officer(
        runtime.pool,
        jurisdiction=officer.jurisdiction,
        agency=officer.agency,
        subject=officer.subject,
    )
    return [ReferralOut.of(s) for s in statuses]

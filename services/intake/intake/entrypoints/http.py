"""Intake's HTTP API: officers refer and follow their referrals; prosecutors review."""

import hashlib
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

import rfc8785
import uuid6
from fastapi import APIRouter, Depends, Header, Request, Response

from intake.adapters import tables
from intake.container import IntakeContainer
from intake.domain.referral import SubmitReferral
from intake.entrypoints.schemas import (
    ArrestIn,
    ArrestOut,
    PendingReview,
    ReferralFormOut,
    ReferralIn,
    ReferralOut,
    ReviewIn,
    WithdrawalIn,
)
from intake.use_cases import ArrestReport, Intake
from intake.use_cases import Request as IntakeRequest
from offramp_contracts.events.base import StaffRef
from offramp_contracts.events.intake import Offence, Person, Screening
from servicekit.access import participant_record, shown
from servicekit.auth import LAW_ENFORCEMENT_ROLES, AuthorizationError, Principal
from servicekit.http import Runtime, correlation_id_of, require_role
from servicekit.idempotency import idempotent_by_route

router = APIRouter(tags=["referrals"])
_referrer_roles = require_role("officer", "case_manager", "supervisor")


async def _referrer(principal: Annotated[Principal, Depends(_referrer_roles)]) -> Principal:
    """Community referrers are case staff the site's profile names; intake checks which (and
    which doors) per referral, since that is the site's policy and not the role's. A token that
    passes only as case staff never also holds a law-enforcement role (servicekit.http)."""
    if not principal.has_role("officer") and principal.has_role(*LAW_ENFORCEMENT_ROLES):
        raise AuthorizationError(
            "Case staff enter community referrals; a token that also holds a law-enforcement "
            f"role ({sorted(principal.roles)}) never passes as one."
        )
    return principal


Referrer = Annotated[Principal, Depends(_referrer)]
# A supervisor here supervises officers: the site's profile must name their agency as law
# enforcement (a case-management supervisor is not one).
OfficerOrSupervisor = Annotated[
    Principal,
    Depends(require_role("officer", "supervisor", kinds={"supervisor": "law_enforcement"})),
]
Prosecutor = Annotated[Principal, Depends(require_role("prosecutor"))]
LawEnforcement = Annotated[Principal, Depends(require_role("officer", "prosecutor"))]
IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=200,
        description=(
            "A key the client makes up once per referral (a UUID is best) and sends again with "
            "every retry of it: the retries return the referral the first attempt created."
        ),
    ),
]


async def intake_of(runtime: Runtime) -> Intake:
    return runtime.container_as(IntakeContainer).intake


IntakeService = Annotated[Intake, Depends(intake_of)]


def _request(principal: Principal, role: str, http: Request) -> IntakeRequest:
    return IntakeRequest(principal.acting_as(role), principal.jurisdiction, correlation_id_of(http))


def _referrer_role(principal: Principal) -> str:
    for role in ("officer", "case_manager", "supervisor"):
        if principal.has_role(role):
            return role
    raise AssertionError("the route's gate admits only these roles")


def _role_of(principal: Principal) -> str:
    return "officer" if principal.has_role("officer") else "supervisor"


@router.get("/referral-form", response_model=ReferralFormOut)
async def get_referral_form(officer: Referrer, intake: IntakeService) -> ReferralFormOut:
    """What to ask when referring in the caller's jurisdiction today: the site's open doors and
    only the screening questions its rules read, with plain-language help."""
    return ReferralFormOut.of(intake.form_for(officer.jurisdiction, datetime.now(UTC)))


@router.post(
    "/referrals",
    status_code=201,
    response_model=ReferralOut,
    responses={201: {"description": "Referred (or, on a retry, the referral already made)"}},
    openapi_extra=idempotent_by_route("referral"),
)
async def post_referral(
    body: ReferralIn,
    officer: Referrer,
    intake: IntakeService,
    idempotency_key: IdempotencyKey,
    http: Request,
    response: Response,
) -> ReferralOut:
    """Refer a person. The site's rules decide at once; a referral that needs review waits for
    the liaison prosecutor, and an eligible one is admitted or waitlisted. Officers refer at any
    open door; the community referrers a site's profile names enter community referrals only."""
    role = _referrer_role(officer)
    command = SubmitReferral(
        referral_id=uuid6.uuid7(),
        door=body.door,
        source=body.source,
        person=Person.model_validate(body.person.model_dump()),
        offence=Offence.model_validate(body.offence.model_dump()),
        screening=Screening.model_validate(body.screening.model_dump()),
        referring_officer=StaffRef(subject=officer.subject, agency=officer.agency),
        entered_as=role,
    )
    fingerprint = hashlib.sha256(rfc8785.dumps(body.model_dump(mode="json"))).hexdigest()
    submitted = await intake.submit(
        command,
        _request(officer, role, http),
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
    )
    if submitted.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return ReferralOut.of(submitted.referral)


@router.get(
    "/referrals", response_model=list[ReferralOut], openapi_extra=participant_record("referral")
)
async def list_referrals(staff: Referrer, runtime: Runtime, http: Request) -> list[ReferralOut]:
    """An officer's (or community referrer's) own referrals, with their coarse status only; for
    a supervisor, every referral of their agency."""
    own = staff.has_role("officer", "case_manager")
    rows = await tables.referrals_by(
        runtime.pool,
        jurisdiction=staff.jurisdiction,
        agency=staff.agency,
        subject=staff.subject if own else None,
    )
    answer = [ReferralOut.of(row) for row in rows]
    shown(http, "referral", (r.referral_id for r in answer))
    return answer


@router.get(
    "/referrals/{referral_id}",
    response_model=ReferralOut,
    openapi_extra=participant_record("referral", "referral_id"),
)
async def get_referral(
    referral_id: UUID, staff: OfficerOrSupervisor, intake: IntakeService, http: Request
) -> ReferralOut:
    row = await intake.referral_for(referral_id, _request(staff, _role_of(staff), http))
    return ReferralOut.of(row)


@router.post(
    "/referrals/{referral_id}/withdrawal",
    response_model=ReferralOut,
    openapi_extra=participant_record("referral", "referral_id"),
)
async def withdraw_referral(
    referral_id: UUID,
    body: WithdrawalIn,
    staff: OfficerOrSupervisor,
    intake: IntakeService,
    http: Request,
) -> ReferralOut:
    """Withdraw a referral before its case opens: the referring officer, or their supervisor."""
    row = await intake.withdraw(
        referral_id, _request(staff, _role_of(staff), http), reason=body.reason
    )
    return ReferralOut.of(row)


@router.get(
    "/reviews",
    response_model=list[PendingReview],
    tags=["review"],
    openapi_extra=participant_record("referral"),
)
async def pending_reviews(
    prosecutor: Prosecutor, runtime: Runtime, http: Request
) -> list[PendingReview]:
    """Referrals waiting for the caller's office in the caller's jurisdiction, oldest first."""
    rows = await tables.reviews_for(
        runtime.pool, jurisdiction=prosecutor.jurisdiction, agency=prosecutor.agency
    )
    answer = [PendingReview.of(row) for row in rows]
    shown(http, "referral", (r.referral_id for r in answer))
    return answer


@router.post(
    "/referrals/{referral_id}/review",
    response_model=ReferralOut,
    tags=["review"],
    openapi_extra=participant_record("referral", "referral_id"),
)
async def review_referral(
    referral_id: UUID,
    body: ReviewIn,
    prosecutor: Prosecutor,
    intake: IntakeService,
    http: Request,
) -> ReferralOut:
    """Approve or decline a referral that waits for the prosecutor, with a reason."""
    row = await intake.review(
        referral_id,
        _request(prosecutor, "prosecutor", http),
        verdict=body.verdict,
        reason=body.reason,
    )
    return ReferralOut.of(row)


@router.post(
    "/arrests",
    response_model=ArrestOut,
    tags=["arrests"],
    openapi_extra=participant_record("referral"),
)
async def report_arrest(
    body: ArrestIn, reporter: LawEnforcement, intake: IntakeService, http: Request
) -> ArrestOut:
    """Report a new arrest by the person's name and date of birth. If they are a current
    participant, the arrest is recorded on their case (the liaison prosecutor and the case
    manager are told); the answer says only that, or that they are not a participant."""
    role = "prosecutor" if reporter.has_role("prosecutor") else "officer"
    outcome = await intake.report_arrest(
        _request(reporter, role, http),
        reporter,
        ArrestReport(
            given_name=body.given_name,
            family_name=body.family_name,
            date_of_birth=body.date_of_birth,
            arrested_on=body.arrested_on,
        ),
    )
    return ArrestOut(outcome=outcome)

"""What leaves the case-management agency under a release, to whom, and with which notice.

A requester reads only what a release in force names them for; officers and prosecutors never
read anything here, with or without a form (the Golden Rule, DESIGN.md rule 7). Substance-use
needs and services leave only under the `substance_use_treatment` category: a release for
"assessed needs" or "service referrals" alone discloses the rest and says nothing of them, not
even that something was withheld. Free texts (assessment and contact notes, goals, non-compliance
details) never leave: nobody can check in advance what they say.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from casework.domain.consent import LAW_ENFORCEMENT_ROLES, CaseParties
from casework.domain.releases import ConsentRecord, Release, standing
from offramp_contracts import EventEnvelope, payload_of
from offramp_contracts.events.base import StaffRef
from offramp_contracts.events.casework import (
    ClosureReason,
    CoarseStatusName,
    IntakeAssessmentCompleted,
    Need,
    ServiceKind,
    ServiceOutcome,
    ServiceReferralMade,
)
from offramp_contracts.events.consent import (
    REDISCLOSURE_NOTICE,
    InformationCategory,
    InformationDisclosed,
    RecipientRole,
)
from offramp_contracts.lifecycle import CaseState, Phase, coarse_status
from servicekit.refusals import Refusal

REDISCLOSURE_NOTICE_TEXT = (
    "This record which has been disclosed to you is protected by Federal confidentiality rules "
    "(42 CFR part 2). These rules prohibit you from using or disclosing this record, or "
    "testimony that describes the information contained in this record, in any civil, "
    "criminal, administrative, or legislative proceedings by any Federal, State, or local "
    "authority, against the patient, unless authorized by the consent of the patient, except "
    "as provided at 42 CFR 2.12(c)(5) or as authorized by a court in accordance with 42 CFR "
    "2.64 or 2.65. In addition, the Federal rules prohibit you from making any other use or "
    "disclosure of this record unless at least one of the following applies: (i) Further use "
    "or disclosure is expressly permitted by the written consent of the individual whose "
    "information is being disclosed in this record or as otherwise permitted by 42 CFR part 2. "
    "(ii) You are a covered entity or business associate and have received the record for "
    "treatment, payment, or health care operations, or (iii) You have received the record from "
    "a covered entity or business associate as permitted by 45 CFR part 164, subparts A and E. "
    "A general authorization for the release of medical or other information is NOT sufficient "
    "to meet the required elements of written consent to further use or redisclose the record "
    "(see 42 CFR 2.31)."
)
"""Statement 1 of 42 CFR § 2.32(a)(1), as amended in 2024; it goes with every disclosure."""

SUBSTANCE_USE_NEEDS: frozenset[Need] = frozenset({"substance_use_treatment", "detox"})
SUBSTANCE_USE_SERVICES: frozenset[ServiceKind] = frozenset(
    # Support groups are counted here because most in the programme are recovery groups.
    {"detox", "substance_use_treatment", "harm_reduction", "support_group"}
)


@dataclass(frozen=True)
class Requester:
    """Who asks, as their token says."""

    subject: str
    agency: str
    roles: frozenset[str]


class DisclosureRefused(Refusal, PermissionError):
    """Nothing may be disclosed to this requester now (answered with 403)."""

    status = 403


class GoldenRuleRefusal(DisclosureRefused):
    kind = "golden-rule"
    title = "Never disclosed to law enforcement"


class NoValidRelease(DisclosureRefused):
    kind = "no-valid-release"
    title = "No release in force names you"


def refuse_law_enforcement(requester: Requester, parties: CaseParties | None = None) -> None:
    """Officers and prosecutors are refused before anything about a case is even looked up."""
    agencies = {parties.prosecutor_agency, parties.referring_agency} if parties else set()
    if requester.roles & LAW_ENFORCEMENT_ROLES or requester.agency in agencies:
        raise GoldenRuleRefusal(
            "Nothing learned in care ever reaches law enforcement or a prosecutor (Offramp's "
            "Golden Rule), so no release can be used here by an officer or a prosecutor. The "
            "referring officer and the liaison prosecutor see the coarse status at "
            "GET /cases/{case_id}/status."
        )


def named_role(release: Release, requester: Requester) -> RecipientRole | None:
    """The role in which `release` names the requester, or None if it does not."""
    recipient = release.granted.recipient
    if recipient.agency != requester.agency or recipient.role not in requester.roles:
        return None
    if recipient.subject is not None and recipient.subject != requester.subject:
        return None
    return recipient.role


@dataclass(frozen=True)
class Allowance:
    role: RecipientRole
    releases: tuple[Release, ...]
    information: frozenset[InformationCategory]


def allowance(
    record: ConsentRecord, requester: Requester, parties: CaseParties, at: datetime
) -> Allowance:
    """What the releases in force at `at` let the requester receive, or `DisclosureRefused`
    saying why nothing may be."""
    refuse_law_enforcement(requester, parties)
    if requester.agency == parties.agency:
        raise NoValidRelease(
            f"{parties.agency} holds this case's record: its staff read it at "
            f"GET /cases/{parties.case_id}, not as a disclosure."
        )
    naming = [(r, role) for r in record.releases.values() if (role := named_role(r, requester))]
    if not naming:
        raise NoValidRelease(
            f"No release of information signed by this participant names {requester.subject} "
            f"({', '.join(sorted(requester.roles))}) at {requester.agency}. Without one, nothing "
            "about the participant leaves the case-management agency. The participant can sign "
            "a release naming you with their case manager."
        )
    in_force = []
    ended = []
    for release, role in naming:
        stands = standing(release, at, record.case_closed_at)
        if stands.in_force:
            in_force.append((release, role))
        else:
            ended.append(f"release {release.release_id} {stands.explanation}")
    if not in_force:
        raise NoValidRelease(
            "No release that names you is in force: "
            + "; ".join(ended)
            + ". Revocation and expiry take effect at once; the participant can sign a new "
            "release with their case manager."
        )
    return Allowance(
        role=in_force[0][1],
        releases=tuple(release for release, _ in in_force),
        information=frozenset().union(*(r.granted.information for r, _ in in_force)),
    )


# --- what is disclosed -----------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceLine:
    service: ServiceKind
    provider: str
    outcome: ServiceOutcome | None


@dataclass(frozen=True)
class CareRecord:
    """The parts of a case a release can let out: never its free texts."""

    state: CaseState
    needs: frozenset[Need]
    services: tuple[ServiceLine, ...]


def care_record(state: CaseState, events: Sequence[EventEnvelope]) -> CareRecord:
    needs: frozenset[Need] = frozenset()
    made: dict[UUID, ServiceReferralMade] = {}
    for event in events:
        if event.event_type == IntakeAssessmentCompleted.event_type:
            assessed = payload_of(event)
            assert isinstance(assessed, IntakeAssessmentCompleted)
            needs = assessed.assessment.needs
        elif event.event_type == ServiceReferralMade.event_type:
            referral = payload_of(event)
            assert isinstance(referral, ServiceReferralMade)
            made[referral.service_referral_id] = referral
    services = tuple(
        ServiceLine(m.service, m.provider, state.service_referrals.get(referral_id))
        for referral_id, m in made.items()
    )
    return CareRecord(state, needs, services)


@dataclass(frozen=True)
class ProgramStatus:
    status: CoarseStatusName
    phase: Phase
    closure_reason: ClosureReason | None


@dataclass(frozen=True)
class Attendance:
    contacts: int
    last_contact_on: date | None
    engaged: bool
    inactive: bool


@dataclass(frozen=True)
class SubstanceUseTreatment:
    needs: frozenset[Need]
    service_referrals: tuple[ServiceLine, ...]


@dataclass(frozen=True)
class Disclosed:
    """One section per category the releases allow; None where they do not."""

    program_status: ProgramStatus | None = None
    attendance: Attendance | None = None
    assessed_needs: frozenset[Need] | None = None
    service_referrals: tuple[ServiceLine, ...] | None = None
    substance_use_treatment: SubstanceUseTreatment | None = None


def disclosed(care: CareRecord, information: frozenset[InformationCategory]) -> Disclosed:
    state = care.state
    sud_services = tuple(s for s in care.services if s.service in SUBSTANCE_USE_SERVICES)
    return Disclosed(
        program_status=ProgramStatus(coarse_status(state), state.phase, state.closure_reason)
        if "program_status" in information
        else None,
        attendance=Attendance(
            state.contacts,
            state.last_contact_at.date() if state.last_contact_at else None,
            state.engaged,
            state.inactive,
        )
        if "attendance" in information
        else None,
        assessed_needs=care.needs - SUBSTANCE_USE_NEEDS
        if "assessed_needs" in information
        else None,
        service_referrals=tuple(s for s in care.services if s.service not in SUBSTANCE_USE_SERVICES)
        if "service_referrals" in information
        else None,
        substance_use_treatment=SubstanceUseTreatment(
            care.needs & SUBSTANCE_USE_NEEDS, sud_services
        )
        if "substance_use_treatment" in information
        else None,
    )


@dataclass(frozen=True)
class Disclosure:
    event: InformationDisclosed
    allowance: Allowance
    content: Disclosed
    notice: str = REDISCLOSURE_NOTICE_TEXT


def disclose(
    record: ConsentRecord,
    care: CareRecord,
    requester: Requester,
    parties: CaseParties,
    at: datetime,
) -> Disclosure:
    """What the requester receives now, and the `InformationDisclosed` that records it."""
    allowed = allowance(record, requester, parties, at)
    event = InformationDisclosed(
        case_id=parties.case_id,
        release_ids=[r.release_id for r in allowed.releases],
        recipient=StaffRef(subject=requester.subject, agency=requester.agency),
        recipient_role=allowed.role,
        information=allowed.information,
        redisclosure_notice=REDISCLOSURE_NOTICE,
    )
    return Disclosure(event, allowed, disclosed(care, allowed.information))

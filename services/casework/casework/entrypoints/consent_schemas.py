"""The bodies and answers of the consent endpoints (`http_consent.py`)."""

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field

from casework.adapters.consent_tables import DisclosureRow
from casework.domain import disclosure, releases
from casework.domain.consent import ReleaseForm
from casework.domain.releases import Release, Status
from casework.entrypoints.command_schemas import Body
from offramp_contracts import EventEnvelope
from offramp_contracts.envelope import Role
from offramp_contracts.events.consent import (
    REDISCLOSURE_NOTICE,
    ExpiryEvent,
    InformationCategory,
    NoticeId,
    Recipient,
    RevocationMethod,
    RightToRevoke,
    Signature,
    Signer,
)
from servicekit.inputs import IsoDate, IsoInstant

Text = Annotated[str | None, Field(default=None, max_length=2000)]
Name = Annotated[str | None, Field(default=None, max_length=200)]


class RecipientIn(Body):
    agency: Name = None
    role: Role | None = None
    subject: Name = None


class RightToRevokeIn(Body):
    statement: Text = None
    how: Text = None


class SignatureIn(Body):
    signed_by: Signer | None = None
    representative: Name = None
    signed_on: IsoDate | None = None


class ReleaseIn(Body):
    """The signed form as typed in. Every element is required; a form that lacks any is refused
    with a 422 naming each one missing and how to supply it."""

    participant: UUID | None = Field(default=None, description="The case id the form is for.")
    discloser: Name = None
    information: frozenset[InformationCategory] = frozenset()
    recipient: RecipientIn = Field(default_factory=RecipientIn)
    purpose: Text = None
    right_to_revoke: RightToRevokeIn = Field(default_factory=RightToRevokeIn)
    expires_at: IsoInstant | None = None
    expires_on: ExpiryEvent | None = None
    signature: SignatureIn = Field(default_factory=SignatureIn)

    def form(self) -> ReleaseForm:
        return ReleaseForm(
            participant=self.participant,
            discloser=self.discloser,
            information=self.information,
            recipient_agency=self.recipient.agency,
            recipient_role=self.recipient.role,
            recipient_subject=self.recipient.subject,
            purpose=self.purpose,
            revoke_statement=self.right_to_revoke.statement,
            revoke_how=self.right_to_revoke.how,
            expires_at=self.expires_at,
            expires_on=self.expires_on,
            signed_by=self.signature.signed_by,
            representative=self.signature.representative,
            signed_on=self.signature.signed_on,
        )


class RevocationIn(Body):
    method: RevocationMethod
    revoked_at: IsoInstant | None = Field(
        default=None, description="When the participant revoked; now if not given."
    )


class RevocationView(BaseModel):
    revoked_at: datetime
    method: RevocationMethod
    recorded_by: str


class ReleaseView(BaseModel):
    release_id: UUID
    participant: UUID
    discloser: str
    information: list[InformationCategory]
    recipient: Recipient
    purpose: str
    right_to_revoke: RightToRevoke
    expires_at: datetime | None
    expires_on: ExpiryEvent | None
    signature: Signature
    recorded_at: datetime
    recorded_by: str
    status: Status = Field(description="in_force, revoked or expired, as of now.")
    standing: str = Field(description="Why, in words.")
    ended_at: datetime | None
    revocation: RevocationView | None

    @classmethod
    def of(cls, release: Release, now: datetime, case_closed_at: datetime | None) -> "ReleaseView":
        g, r = release.granted, release.revocation
        stands = releases.standing(release, now, case_closed_at)
        return cls(
            release_id=g.release_id,
            participant=g.case_id,
            discloser=g.discloser,
            information=sorted(g.information),
            recipient=g.recipient,
            purpose=g.purpose,
            right_to_revoke=g.right_to_revoke,
            expires_at=g.expires_at,
            expires_on=g.expires_on,
            signature=g.signature,
            recorded_at=release.recorded_at,
            recorded_by=g.recorded_by.subject,
            status=stands.status,
            standing=stands.explanation,
            ended_at=stands.ended_at,
            revocation=RevocationView(
                revoked_at=r.revoked_at, method=r.method, recorded_by=r.recorded_by.subject
            )
            if r
            else None,
        )


class RecipientView(BaseModel):
    subject: str
    agency: str
    role: str


class UnderRelease(BaseModel):
    """The scope of a release a disclosure was made under, which goes with it (42 CFR 2.32(b))."""

    release_id: UUID
    information: list[InformationCategory]
    recipient: Recipient
    purpose: str
    expires_at: datetime | None
    expires_on: ExpiryEvent | None
    signed_on: date

    @classmethod
    def of(cls, release: Release) -> "UnderRelease":
        g = release.granted
        return cls(
            release_id=g.release_id,
            information=sorted(g.information),
            recipient=g.recipient,
            purpose=g.purpose,
            expires_at=g.expires_at,
            expires_on=g.expires_on,
            signed_on=g.signature.signed_on,
        )


class DisclosureView(BaseModel):
    """What a release in force lets the requester read: one section per category it allows
    (null otherwise), and always the federal redisclosure notice."""

    case_id: UUID
    disclosure_id: UUID
    disclosed_at: datetime
    recipient: RecipientView
    under_releases: list[UnderRelease]
    information: list[InformationCategory]
    content: disclosure.Disclosed
    redisclosure_notice: str
    notice_citation: NoticeId = REDISCLOSURE_NOTICE

    @classmethod
    def of(cls, stored: EventEnvelope, given: disclosure.Disclosure) -> "DisclosureView":
        recipient = given.event.recipient
        return cls(
            case_id=given.event.case_id,
            disclosure_id=stored.event_id,
            disclosed_at=stored.occurred_at,
            recipient=RecipientView(
                subject=recipient.subject, agency=recipient.agency, role=given.allowance.role
            ),
            under_releases=[UnderRelease.of(r) for r in given.allowance.releases],
            information=sorted(given.allowance.information),
            content=given.content,
            redisclosure_notice=given.notice,
        )


class DisclosureRecord(BaseModel):
    disclosure_id: UUID
    disclosed_at: datetime
    recipient: RecipientView
    information: list[str]
    release_ids: list[UUID]
    notice: str

    @classmethod
    def of(cls, row: DisclosureRow) -> "DisclosureRecord":
        return cls(
            disclosure_id=row.disclosure_id,
            disclosed_at=row.disclosed_at,
            recipient=RecipientView(
                subject=row.recipient_subject, agency=row.recipient_agency, role=row.recipient_role
            ),
            information=row.information,
            release_ids=row.release_ids,
            notice=row.notice,
        )


class DisclosureList(BaseModel):
    case_id: UUID
    since: datetime
    disclosures: list[DisclosureRecord]

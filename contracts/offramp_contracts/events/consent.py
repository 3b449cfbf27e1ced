"""Events of consent, in the casework context: releases of information a participant signed, their
revocation, and each disclosure made under them (DESIGN.md rule 10; 42 CFR §§ 2.31-2.32).

They live on the case's stream (`case-<id>`), beside the case manager's work. A release can never
name law enforcement or a prosecutor as its recipient: `RecipientRole` has no such value, so no
such event can even be built (the Golden Rule, DESIGN.md rule 7).
"""

from datetime import date
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from offramp_contracts.events.base import Context, EventPayload, StaffRef
from offramp_contracts.events.casework import CARE_ONLY

InformationCategory = Literal[
    "program_status",
    "attendance",
    "assessed_needs",
    "service_referrals",
    "substance_use_treatment",
]
"""What a release may let the case-management agency disclose. Substance-use needs and services
leave only under `substance_use_treatment`, never as part of the needs or referrals."""

RecipientRole = Literal["public_defender", "case_manager", "supervisor"]
"""Who may receive a disclosure: defence counsel, and staff of another care agency."""

ExpiryEvent = Literal["case_closed"]
"""Events the system sees happen, on which a release can end by itself."""

Signer = Literal["participant", "legal_representative"]
RevocationMethod = Literal["in_writing", "orally", "electronically"]

NoticeId = Literal["42 CFR 2.32(a)(1)"]
REDISCLOSURE_NOTICE: NoticeId = "42 CFR 2.32(a)(1)"
"""The federal redisclosure notice (Statement 1 of § 2.32(a)) every disclosure carries."""


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Recipient(_Part):
    """To whom: an office (agency and role), or one named person in it."""

    agency: str = Field(min_length=1, max_length=200)
    role: RecipientRole
    subject: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="A named person (their token's subject); None: anyone of the role there.",
    )


class RightToRevoke(_Part):
    """The form's statement of the participant's right to revoke, and how to do it."""

    statement: str = Field(min_length=1, max_length=2000)
    how: str = Field(min_length=1, max_length=2000)


class Signature(_Part):
    signed_by: Signer
    representative: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Who signed for the participant, and in what capacity.",
        json_schema_extra=CARE_ONLY,
    )
    signed_on: date

    @model_validator(mode="after")
    def _representative_named(self) -> "Signature":
        if self.signed_by == "legal_representative" and self.representative is None:
            raise ValueError("a legal representative who signs is named, with their capacity")
        return self


class ConsentGranted(EventPayload):
    """A release of information the participant signed, as recorded by their case manager. It
    ends at `expires_at`, on `expires_on`, or when revoked, whichever comes first."""

    event_type: ClassVar[str] = "ConsentGranted"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "casework"

    case_id: UUID = Field(description="The participant, whose case this is.")
    release_id: UUID
    discloser: str = Field(
        min_length=1, max_length=200, description="The agency permitted to disclose."
    )
    information: frozenset[InformationCategory] = Field(min_length=1, json_schema_extra=CARE_ONLY)
    recipient: Recipient
    purpose: str = Field(min_length=1, max_length=2000, json_schema_extra=CARE_ONLY)
    right_to_revoke: RightToRevoke
    expires_at: AwareDatetime | None = None
    expires_on: ExpiryEvent | None = None
    signature: Signature
    recorded_by: StaffRef

    @model_validator(mode="after")
    def _expires(self) -> "ConsentGranted":
        if self.expires_at is None and self.expires_on is None:
            raise ValueError("a release ends at a date or on an event; it names neither")
        return self


class ConsentRevoked(EventPayload):
    """The participant revoked a release. It ends at `revoked_at`, which is never later than
    when the revocation was recorded."""

    event_type: ClassVar[str] = "ConsentRevoked"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "casework"

    case_id: UUID
    release_id: UUID
    revoked_at: AwareDatetime
    method: RevocationMethod
    recorded_by: StaffRef


class InformationDisclosed(EventPayload):
    """Information about the participant left the case-management agency under one or more
    valid releases, with the federal redisclosure notice. What was disclosed is named by its
    categories, never copied here."""

    event_type: ClassVar[str] = "InformationDisclosed"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "casework"

    case_id: UUID
    release_ids: list[UUID] = Field(min_length=1)
    recipient: StaffRef
    recipient_role: RecipientRole
    information: frozenset[InformationCategory] = Field(min_length=1, json_schema_extra=CARE_ONLY)
    redisclosure_notice: NoticeId

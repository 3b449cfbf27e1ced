"""Releases of information (DESIGN.md rule 10; the elements of a 42 CFR § 2.31 consent): whether
a signed form may be recorded, and its revocation. The releases a case's stream holds, and
whether one is in force at an instant, are `casework.domain.releases`.

Pure: the clock comes in as `now`/`at`. The Golden Rule (rule 7) outranks any signature: a
release to law enforcement or a prosecutor is refused however complete it is.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast, get_args
from uuid import UUID

from casework.domain.releases import ConsentRecord
from offramp_contracts.events.base import StaffRef
from offramp_contracts.events.consent import (
    ConsentGranted,
    ConsentRevoked,
    ExpiryEvent,
    InformationCategory,
    Recipient,
    RecipientRole,
    RevocationMethod,
    RightToRevoke,
    Signature,
    Signer,
)
from servicekit.refusals import Refusal

RECIPIENT_ROLES: tuple[RecipientRole, ...] = get_args(RecipientRole)
LAW_ENFORCEMENT_ROLES: frozenset[str] = frozenset({"officer", "prosecutor"})
CATEGORIES: tuple[str, ...] = get_args(InformationCategory)

ELEMENTS: Mapping[str, str] = {
    "participant": "Give `participant`: the id of the case whose participant signed the form.",
    "discloser": "Give `discloser`: the agency the form permits to disclose (this case's "
    "case-management agency).",
    "information": "Give `information`: what may be disclosed, one or more of "
    + ", ".join(CATEGORIES)
    + ".",
    "recipient.agency": "Give `recipient.agency`: the agency the information goes to.",
    "recipient.role": "Give `recipient.role`: the office that receives it there, one of "
    + ", ".join(RECIPIENT_ROLES)
    + " (add `recipient.subject` to name one person).",
    "purpose": "Give `purpose`: what the disclosure is for, as the form says.",
    "right_to_revoke.statement": "Give `right_to_revoke.statement`: the form's statement of "
    "the participant's right to revoke the release.",
    "right_to_revoke.how": "Give `right_to_revoke.how`: how the participant may revoke it.",
    "expiry": 'Give `expires_at` (a date and time), `expires_on` ("case_closed"), or both: '
    "when the release ends if not revoked first.",
    "signature.signed_by": "Give `signature.signed_by`: participant or legal_representative.",
    "signature.representative": "Give `signature.representative`: who signed for the "
    "participant, and in what capacity.",
    "signature.signed_on": "Give `signature.signed_on`: the date the form was signed.",
}
"""Every element a release must have, and how to supply it when it is missing."""


@dataclass(frozen=True)
class ReleaseForm:
    """A signed release as the case manager types it in from the form: anything may be missing,
    and a blank text counts as missing."""

    participant: UUID | None = None
    discloser: str | None = None
    information: frozenset[InformationCategory] = frozenset()
    recipient_agency: str | None = None
    recipient_role: str | None = None
    recipient_subject: str | None = None
    purpose: str | None = None
    revoke_statement: str | None = None
    revoke_how: str | None = None
    expires_at: datetime | None = None
    expires_on: ExpiryEvent | None = None
    signed_by: Signer | None = None
    representative: str | None = None
    signed_on: date | None = None


@dataclass(frozen=True)
class CaseParties:
    """Who stands where around a case: who holds the record, and who must never receive it."""

    case_id: UUID
    agency: str
    prosecutor_agency: str
    referring_agency: str


@dataclass(frozen=True)
class Missing:
    element: str
    how: str


class ReleaseRefused(Refusal, ValueError):
    """A release that may not be recorded; the subclass says why (all answered with 422)."""

    status = 422


class ReleaseIncomplete(ReleaseRefused):
    kind = "release-incomplete"
    title = "The release lacks required elements"

    def __init__(self, missing: Sequence[Missing]) -> None:
        self.missing = list(missing)
        names = ", ".join(m.element for m in self.missing)
        super().__init__(
            f"The release lacks {len(self.missing)} required element(s): {names}. "
            "Copy them from the signed form (see 'missing'); a form without them is not a "
            "valid release, so have the participant complete and sign it again."
        )

    def extensions(self) -> dict[str, Any]:
        return {"missing": [{"element": m.element, "how": m.how} for m in self.missing]}


class ReleaseInvalid(ReleaseRefused):
    kind = "release-invalid"
    title = "The release cannot be right"

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        super().__init__("The release cannot be right as given: " + "; ".join(self.errors) + ".")

    def extensions(self) -> dict[str, Any]:
        return {"errors": self.errors}


class ReleaseToLawEnforcement(ReleaseRefused):
    """The Golden Rule: nothing learned in care reaches law enforcement or a prosecutor."""

    kind = "release-to-law-enforcement"
    title = "No release may send care information to law enforcement or a prosecutor"


def _blank(text: str | None) -> bool:
    return text is None or not text.strip()


def missing_elements(form: ReleaseForm) -> list[Missing]:
    """Every element the form lacks, in the order of `ELEMENTS`."""
    lacking = {
        "participant": form.participant is None,
        "discloser": _blank(form.discloser),
        "information": not form.information,
        "recipient.agency": _blank(form.recipient_agency),
        "recipient.role": _blank(form.recipient_role),
        "purpose": _blank(form.purpose),
        "right_to_revoke.statement": _blank(form.revoke_statement),
        "right_to_revoke.how": _blank(form.revoke_how),
        "expiry": form.expires_at is None and form.expires_on is None,
        "signature.signed_by": form.signed_by is None,
        "signature.representative": form.signed_by == "legal_representative"
        and _blank(form.representative),
        "signature.signed_on": form.signed_on is None,
    }
    return [Missing(name, ELEMENTS[name]) for name, absent in lacking.items() if absent]


def law_enforcement_refusal(form: ReleaseForm, parties: CaseParties) -> str | None:
    """Why the form's recipient is law enforcement or a prosecutor, or None if it is not."""
    role, agency = form.recipient_role, (form.recipient_agency or "").strip()
    if role in LAW_ENFORCEMENT_ROLES:
        who = f"the {role} role"
    elif agency == parties.prosecutor_agency:
        who = f"{agency}, the site's prosecutor"
    elif agency == parties.referring_agency:
        who = f"{agency}, the law enforcement agency that referred the participant"
    else:
        return None
    return (
        f"This release would send information to {who}. Offramp's Golden Rule is that nothing "
        "learned in care ever reaches law enforcement or a prosecutor, whatever a form says, so "
        "no participant ends up worse off for being in the programme. Officers and the liaison "
        "prosecutor learn only the coarse status, which needs no release."
    )


def _nonsense(form: ReleaseForm, parties: CaseParties, now: datetime) -> list[str]:
    errors = []
    if form.participant is not None and form.participant != parties.case_id:
        errors.append(
            f"the form names the participant of case {form.participant}, not of case "
            f"{parties.case_id}: record it on that case, or correct `participant`"
        )
    if form.discloser is not None and form.discloser.strip() != parties.agency:
        errors.append(
            f"only {parties.agency} holds this case's record, so the release must name it as "
            f"`discloser`, not {form.discloser.strip()!r}"
        )
    if form.recipient_role and form.recipient_role not in RECIPIENT_ROLES:
        errors.append(
            f"a {form.recipient_role} cannot receive a disclosure; `recipient.role` is one of "
            f"{', '.join(RECIPIENT_ROLES)}"
        )
    if form.recipient_agency and form.recipient_agency.strip() == parties.agency:
        errors.append(
            f"{parties.agency} already holds the record: a release names who receives it "
            "outside the agency"
        )
    if form.signed_on is not None and form.signed_on > now.date():
        errors.append(f"the signature date {form.signed_on} is in the future")
    if form.expires_at is not None:
        if form.signed_on is not None and form.expires_at.date() < form.signed_on:
            errors.append(
                f"it expires ({form.expires_at.isoformat()}) before it was signed "
                f"({form.signed_on})"
            )
        elif form.expires_at <= now:
            errors.append(
                f"it expired at {form.expires_at.isoformat()}; the participant must sign a new one"
            )
    return errors


def grant(
    form: ReleaseForm,
    parties: CaseParties,
    *,
    release_id: UUID,
    recorded_by: StaffRef,
    now: datetime,
) -> ConsentGranted:
    """The release as an event, or `ReleaseRefused` naming everything wrong with the form: the
    Golden Rule first (no completing such a form helps), then every missing element, then
    what cannot be right."""
    refusal = law_enforcement_refusal(form, parties)
    if refusal is not None:
        raise ReleaseToLawEnforcement(refusal)
    missing = missing_elements(form)
    if missing:
        raise ReleaseIncomplete(missing)
    errors = _nonsense(form, parties, now)
    if errors:
        raise ReleaseInvalid(errors)
    # Narrowing only: missing_elements and _nonsense have refused every gap by now.
    assert form.recipient_agency and form.purpose and form.signed_by and form.signed_on
    assert form.revoke_statement and form.revoke_how and form.recipient_role
    return ConsentGranted(
        case_id=parties.case_id,
        release_id=release_id,
        discloser=parties.agency,
        information=form.information,
        recipient=Recipient(
            agency=form.recipient_agency.strip(),
            role=cast(RecipientRole, form.recipient_role),
            subject=form.recipient_subject.strip() if form.recipient_subject else None,
        ),
        purpose=form.purpose.strip(),
        right_to_revoke=RightToRevoke(
            statement=form.revoke_statement.strip(), how=form.revoke_how.strip()
        ),
        expires_at=form.expires_at,
        expires_on=form.expires_on,
        signature=Signature(
            signed_by=form.signed_by,
            representative=form.representative.strip() if form.representative else None,
            signed_on=form.signed_on,
        ),
        recorded_by=recorded_by,
    )


# --- releases over time ----------------------------------------------------------------------


class ReleaseNotFound(Refusal, LookupError):
    status = 404
    kind = "release-not-found"
    title = "No such release"

    def __init__(self, case_id: UUID, release_id: UUID) -> None:
        super().__init__(
            f"case {case_id} has no release {release_id}; list its releases with "
            f"GET /cases/{case_id}/releases"
        )


def revoke(
    record: ConsentRecord,
    *,
    case_id: UUID,
    release_id: UUID,
    revoked_at: datetime,
    method: RevocationMethod,
    recorded_by: StaffRef,
    now: datetime,
) -> ConsentRevoked:
    """The participant's revocation, effective at `revoked_at` (when they revoked, which is
    never later than now). An expired release may still be revoked: the wish is on record."""
    release = record.releases.get(release_id)
    if release is None:
        raise ReleaseNotFound(case_id, release_id)
    errors = []
    if revoked_at > now:
        errors.append(
            "a revocation takes effect when the participant makes it, so `revoked_at` cannot "
            "be in the future; for a release that should end later, record a new release "
            "with that expiry"
        )
    if revoked_at.date() < release.granted.signature.signed_on:
        errors.append(
            f"`revoked_at` ({revoked_at.isoformat()}) is before the release was signed "
            f"({release.granted.signature.signed_on})"
        )
    if errors:
        raise ReleaseInvalid(errors)
    return ConsentRevoked(
        case_id=case_id,
        release_id=release_id,
        revoked_at=revoked_at,
        method=method,
        recorded_by=recorded_by,
    )


def three_years_before(instant: datetime) -> datetime:
    """The start of the period a list of disclosures covers by default (the same day and time
    three years earlier; 29 February falls back to the 28th)."""
    try:
        return instant.replace(year=instant.year - 3)
    except ValueError:
        return instant.replace(year=instant.year - 3, day=28)

"""Releases of information and disclosures over HTTP (DESIGN.md rule 10).

Who may call what (every refusal is RFC 9457 problem+json):

| endpoint | allowed | refused |
| --- | --- | --- |
| `POST /cases/{id}/releases` | case_manager, supervisor of the case's agency | other agencies 404; other roles 403; a closed case 409; an incomplete, impossible or law-enforcement release 422 |
| `GET /cases/{id}/releases` | case_manager, supervisor of the case's agency | other agencies 404; everyone else 403 |
| `POST /cases/{id}/releases/{rid}/revocation` | case_manager, supervisor of the case's agency (also on a closed case) | everyone else 403; unknown release 404; revoked already 409 |
| `GET /cases/{id}/disclosure` | public_defender, case_manager, supervisor of an agency that a release in force names | officers and prosecutors always 403 (Golden Rule); no release in force 403; other roles 403 |
| `GET /cases/{id}/disclosures` | case_manager, supervisor of the case's agency | everyone else 403 |

A case of another agency, or outside the caller's jurisdiction, is 404 for everyone but officers and prosecutors on
the disclosure endpoint, who are refused before any case is looked up.
"""

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from casework.adapters import consent_tables
from casework.adapters.case_store import StoredCase
from casework.domain import consent, releases
from casework.entrypoints.command_request import Commands, Sent, case_command
from casework.entrypoints.consent_schemas import (
    DisclosureList,
    DisclosureRecord,
    DisclosureView,
    ReleaseIn,
    ReleaseView,
    RevocationIn,
)
from casework.entrypoints.http_cases import CASE_RECORD, Cases, CaseStaff
from casework.use_cases import ReleaseNow
from servicekit.auth import Principal
from servicekit.http import Runtime, require_role
from servicekit.inputs import IsoInstant

router = APIRouter(tags=["consent"])
# Officers and prosecutors pass this check only to be told why the Golden Rule refuses them.
Asker = Annotated[
    Principal, Depends(require_role(*consent.RECIPIENT_ROLES, *consent.LAW_ENFORCEMENT_ROLES))
]


def _closure_time(case: StoredCase) -> datetime | None:
    return releases.consent_record(case.events).case_closed_at


def _view(sent: Sent, now: ReleaseNow) -> ReleaseView:
    sent.answered(now.recorded)
    return ReleaseView.of(now.release, now.at, now.case_closed_at)


@case_command(router, "POST", "/cases/{case_id}/releases", ReleaseView, created=True)
async def record_release(
    case_id: UUID, body: ReleaseIn, staff: CaseStaff, commands: Commands, sent: Sent
) -> ReleaseView:
    """Case managers and supervisors of the case's agency record a release the participant
    signed. Refused: a missing element (422 `release-incomplete`, each named with how to
    supply it), a release that cannot be right (422 `release-invalid`), one to law enforcement
    or a prosecutor (422 `release-to-law-enforcement`), a closed case (409)."""
    return _view(sent, await commands.record_release(sent.caller(staff), case_id, body.form()))


@router.get(
    "/cases/{case_id}/releases", response_model=list[ReleaseView], openapi_extra=CASE_RECORD
)
async def list_releases(
    case_id: UUID, staff: CaseStaff, cases: Cases, runtime: Runtime
) -> list[ReleaseView]:
    """Case managers and supervisors of the case's agency: every release, with whether it is in
    force now; also for a closed case."""
    case = await cases.read(case_id, staff, "case_staff")
    async with runtime.pool.acquire() as conn:
        releases = await consent_tables.releases_of(conn, case_id)
    now, closed_at = datetime.now(UTC), _closure_time(case)
    return [ReleaseView.of(release, now, closed_at) for release in releases]


@case_command(router, "POST", "/cases/{case_id}/releases/{release_id}/revocation", ReleaseView)
async def revoke_release(
    case_id: UUID,
    release_id: UUID,
    body: RevocationIn,
    staff: CaseStaff,
    commands: Commands,
    sent: Sent,
) -> ReleaseView:
    """Case managers and supervisors of the case's agency record that the participant revoked a
    release (in writing, orally or electronically, at `revoked_at` or now). It ends at that
    instant; a closed case still takes it."""
    now = await commands.revoke_release(
        sent.caller(staff), case_id, release_id, revoked_at=body.revoked_at, method=body.method
    )
    return _view(sent, now)


@router.get("/cases/{case_id}/disclosure", response_model=DisclosureView, openapi_extra=CASE_RECORD)
async def read_disclosure(
    case_id: UUID, asker: Asker, commands: Commands, sent: Sent, response: Response
) -> DisclosureView:
    """A public defender (or another agency's case manager or supervisor) reads what the
    releases in force that name their role and agency (or them) allow, with the federal
    redisclosure notice; the disclosure is recorded (`InformationDisclosed`) in the same
    transaction. Officers and prosecutors: always 403 (Golden Rule). No release in force (none,
    revoked, expired by date or by the case closing): 403 `no-valid-release`."""
    disclosed = await commands.disclose(sent.caller(asker), case_id)
    response.headers["Cache-Control"] = "no-store"
    return DisclosureView.of(disclosed.stored, disclosed.disclosure)


@router.get(
    "/cases/{case_id}/disclosures", response_model=DisclosureList, openapi_extra=CASE_RECORD
)
async def list_disclosures(
    case_id: UUID,
    staff: CaseStaff,
    cases: Cases,
    runtime: Runtime,
    since: Annotated[
        IsoInstant | None,
        Query(description="From when; three years ago if not given."),
    ] = None,
) -> DisclosureList:
    """Case managers and supervisors of the case's agency: who received what about the
    participant, under which releases and when, the latest first; by default the last three
    years. Also for a closed case."""
    await cases.read(case_id, staff, "case_staff")
    start = since or consent.three_years_before(datetime.now(UTC))
    async with runtime.pool.acquire() as conn:
        rows = await consent_tables.disclosures_of(conn, case_id, since=start)
    return DisclosureList(
        case_id=case_id, since=start, disclosures=[DisclosureRecord.of(row) for row in rows]
    )

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

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response

from casework.adapters import consent_tables
from casework.adapters.case_store import Recorded, StoredCase
from casework.commands import Decide
from casework.domain import consent, disclosure
from casework.domain.consent import CaseParties
from casework.domain.disclosure import Requester
from casework.entrypoints.command_request import Sent
from casework.entrypoints.consent_schemas import (
    DisclosureList,
    DisclosureRecord,
    DisclosureView,
    ReleaseIn,
    ReleaseView,
    RevocationIn,
)
from casework.entrypoints.http_cases import CASE_RECORD, Cases, CaseStaff, staff_ref
from offramp_contracts.events.base import EventPayload
from offramp_contracts.lifecycle import TransitionRefused
from offramp_contracts.profile import SiteProfile
from servicekit.auth import Principal
from servicekit.http import Runtime, correlation_id_of, require_role
from servicekit.inputs import IsoInstant

router = APIRouter(tags=["consent"])
# Officers and prosecutors pass this check only to be told why the Golden Rule refuses them.
Asker = Annotated[
    Principal, Depends(require_role(*consent.RECIPIENT_ROLES, *consent.LAW_ENFORCEMENT_ROLES))
]


def parties_of(case: StoredCase, profile: SiteProfile) -> CaseParties:
    return CaseParties(
        case_id=case.case_id,
        agency=case.agency,
        prosecutor_agency=profile.agencies.prosecutor,
        referring_agency=case.state.referring_officer.agency,
    )


def _closure_time(case: StoredCase) -> datetime | None:
    return consent.consent_record(case.events).case_closed_at


async def _run(
    cases: Cases, case_id: UUID, staff: Principal, decide: Decide, sent: Sent
) -> Recorded:
    recorded = await cases.run(
        case_id, staff, "case_staff", decide, correlation_id=sent.correlation_id, key=sent.key
    )
    if recorded.replayed:
        sent.replayed()
    return recorded


def _release_view(recorded: Recorded, release_id: UUID) -> ReleaseView:
    """The release as the command left it, standing as of when its event was stored (so a
    retry's answer is the first attempt's)."""
    record = consent.consent_record(recorded.case.events)
    (stored,) = recorded.events
    return ReleaseView.of(record.releases[release_id], stored.occurred_at, record.case_closed_at)


@router.post(
    "/cases/{case_id}/releases",
    status_code=201,
    response_model=ReleaseView,
    openapi_extra=CASE_RECORD,
)
async def record_release(
    case_id: UUID, body: ReleaseIn, staff: CaseStaff, cases: Cases, sent: Sent
) -> ReleaseView:
    """Case managers and supervisors of the case's agency record a release the participant
    signed. Refused: a missing element (422 `release-incomplete`, each named with how to
    supply it), a release that cannot be right (422 `release-invalid`), one to law enforcement
    or a prosecutor (422 `release-to-law-enforcement`), a closed case (409)."""
    release_id = sent.new_id(staff)
    form = body.form()

    def decide(case: StoredCase, profile: SiteProfile) -> Sequence[EventPayload]:
        if not case.state.is_open:
            raise TransitionRefused(
                f"case {case.case_id} was closed ({case.state.closure_reason}); it takes no new "
                "release. Its past disclosures stay listed at "
                f"GET /cases/{case.case_id}/disclosures",
                case_closed=True,
            )
        granted = consent.grant(
            form,
            parties_of(case, profile),
            release_id=release_id,
            recorded_by=staff_ref(staff),
            now=datetime.now(UTC),
        )
        return [granted]

    return _release_view(await _run(cases, case_id, staff, decide, sent), release_id)


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


@router.post(
    "/cases/{case_id}/releases/{release_id}/revocation",
    response_model=ReleaseView,
    openapi_extra=CASE_RECORD,
)
async def revoke_release(
    case_id: UUID,
    release_id: UUID,
    body: RevocationIn,
    staff: CaseStaff,
    cases: Cases,
    sent: Sent,
) -> ReleaseView:
    """Case managers and supervisors of the case's agency record that the participant revoked a
    release (in writing, orally or electronically, at `revoked_at` or now). It ends at that
    instant; a closed case still takes it."""
    now = datetime.now(UTC)

    def decide(case: StoredCase, _: SiteProfile) -> Sequence[EventPayload]:
        return [
            consent.revoke(
                consent.consent_record(case.events),
                case_id=case.case_id,
                release_id=release_id,
                revoked_at=body.revoked_at or now,
                method=body.method,
                recorded_by=staff_ref(staff),
                now=datetime.now(UTC),
            )
        ]

    return _release_view(await _run(cases, case_id, staff, decide, sent), release_id)


@router.get("/cases/{case_id}/disclosure", response_model=DisclosureView, openapi_extra=CASE_RECORD)
async def read_disclosure(
    case_id: UUID, asker: Asker, cases: Cases, request: Request, response: Response
) -> DisclosureView:
    """A public defender (or another agency's case manager or supervisor) reads what the
    releases in force that name their role and agency (or them) allow, with the federal
    redisclosure notice; the disclosure is recorded (`InformationDisclosed`) in the same
    transaction. Officers and prosecutors: always 403 (Golden Rule). No release in force (none,
    revoked, expired by date or by the case closing): 403 `no-valid-release`."""
    requester = Requester(asker.subject, asker.agency, asker.roles)
    disclosure.refuse_law_enforcement(requester)
    made: list[disclosure.Disclosure] = []

    def decide(case: StoredCase, profile: SiteProfile) -> Sequence[EventPayload]:
        # The clock is read under the case's row lock, after any revocation that came first.
        made.append(
            disclosure.disclose(
                consent.consent_record(case.events),
                disclosure.care_record(case.state, case.events),
                requester,
                parties_of(case, profile),
                datetime.now(UTC),
            )
        )
        return [made[0].event]

    recorded = await cases.run(
        case_id, asker, "recipient", decide, correlation_id=correlation_id_of(request)
    )
    (stored,), (given,) = recorded.events, made
    response.headers["Cache-Control"] = "no-store"
    return DisclosureView.of(stored, given)


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

"""The reports over HTTP, for analysts and auditors only: aggregates, never a person. JSON by
default, CSV with `Accept: text/csv` or `format=csv`."""

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from offramp_contracts.events.base import Door
from outcomes.container import Outcomes
from outcomes.domain.population import ReportName, ReportQuery
from outcomes.entrypoints.report_formats import ReportOut, as_csv, as_json
from servicekit.auth import AuthorizationError, Principal
from servicekit.http import require_role
from servicekit.inputs import IsoDate, IsoInstant
from servicekit.problems import Problem

router = APIRouter(tags=["reports"])
Analyst = Annotated[Principal, Depends(require_role("analyst", "auditor"))]
CSV = "text/csv"


def outcomes_of(request: Request) -> Outcomes:
    outcomes: Outcomes = request.app.state.outcomes
    return outcomes


@router.get(
    "/reports/{report}",
    response_model=ReportOut,
    responses={200: {"content": {CSV: {"schema": {"type": "string"}}}}},
    summary="An outcomes report by race and by ethnicity, with small cells suppressed",
)
async def report(
    report: ReportName,
    caller: Analyst,
    request: Request,
    jurisdiction: Annotated[str | None, Query(description="Default: your token's.")] = None,
    period_from: Annotated[IsoDate | None, Query(description="First day of referral.")] = None,
    period_to: Annotated[IsoDate | None, Query(description="Last day of referral.")] = None,
    door: Door | None = None,
    as_known_on: Annotated[
        IsoInstant | None,
        Query(description="Compute from the events recorded by then (default: now)."),
    ] = None,
    format: Literal["json", "csv"] | None = None,
) -> ReportOut | Response:
    """Referrals made in the period (through the door), followed up to `as_known_on`."""
    site = jurisdiction or caller.jurisdiction
    if site != caller.jurisdiction:
        raise AuthorizationError(
            f"your token is for {caller.jurisdiction}; reports of {site} need a token for it"
        )
    container = outcomes_of(request)
    now = datetime.now(UTC)
    try:
        query = ReportQuery(
            report=report,
            jurisdiction=site,
            as_known_on=min(as_known_on or now, now),
            period_from=period_from,
            period_to=period_to,
            door=door,
            threshold=container.settings.threshold_for(site),
        )
    except ValueError as error:
        raise Problem(422, "invalid-report-query", "Invalid report query", str(error)) from None
    computed = await container.compute(query)
    wants_csv = format == "csv" or (format is None and CSV in request.headers.get("accept", ""))
    if wants_csv:
        filename = f"{report}-{site}-{query.as_known_on:%Y%m%dT%H%M%SZ}.csv"
        return Response(
            as_csv([computed]),
            media_type=CSV,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return as_json(computed)

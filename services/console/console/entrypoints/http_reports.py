"""Analysts: the outcomes service's equity and re-arrest reports, asked with the analyst's own
token, as tables and charts (aggregates only; outcomes suppresses small cells itself)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from console.adapters.services import ServiceError
from console.domain.reports import REPORTS, cell, chart_of
from console.domain.session import Session
from console.entrypoints.web import Deps, needs, render

router = APIRouter()
Analyst = Annotated[Session, Depends(needs("analyst"))]


@router.get("/reports")
async def reports(request: Request, me: Analyst, deps: Deps) -> Response:
    shown: list[dict[str, Any]] = []
    for name, label in REPORTS:
        try:
            report = await deps.services.outcomes.report(me.token, name)
            shown.append({"name": name, "label": label, "report": report, "error": ""})
        except ServiceError as error:
            if error.status == 401:
                raise
            shown.append({"name": name, "label": label, "report": None, "error": error.message})
    context = {"reports": shown, "cell": cell, "chart_of": chart_of}
    return render(request, "analyst/reports.html", context, me=me)

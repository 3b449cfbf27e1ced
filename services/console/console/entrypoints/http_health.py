"""The console's own health, as every service has it. It holds no connection of its own to
wait for: serving pages is being ready (the operators' page shows the services' health)."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse

router = APIRouter()


@router.get("/healthz")
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
async def readyz() -> JSONResponse:
    return JSONResponse({"status": "ready", "checks": {"console": "ok"}})

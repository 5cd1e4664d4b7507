"""Liveness and readiness: /healthz says the process is up; /readyz that NATS and the threads
service answer."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from contracts.queries import CheckHealth
from gateway.deps import BusDep

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request, bus: BusDep) -> JSONResponse:
    checks = {"nats": bus.nc.is_connected, "threads": False}
    if checks["nats"]:
        try:
            reply = await bus.ask(CheckHealth(), timeout=2.0)
            checks["threads"] = reply.ok
        except Exception:
            checks["threads"] = False
    ready = all(checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
        headers=None if ready else {"Retry-After": "2"},
    )

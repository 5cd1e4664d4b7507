"""`switchboard-threads admin grant|revoke EMAIL`: an operator's SetUserRole, run through the
unit of work like any other command (the outbox relays its event once the service runs)."""

from __future__ import annotations

from contracts.base import Envelope
from contracts.commands import SetUserRole
from threads.bootstrap import build_engine, build_projector
from threads.config import Settings
from threads.handlers import update_user
from threads.store.unit_of_work import UnitOfWork


async def run_set_role(settings: Settings, email: str, role: str) -> int:
    command = SetUserRole(meta=Envelope(), email=email, role=role)  # type: ignore[arg-type]
    engine = build_engine(settings)
    try:
        reply = await UnitOfWork(engine, build_projector()).run(command, update_user.set_role)
    finally:
        await engine.dispose()
    if not reply.ok:
        print(reply.error.detail if reply.error else "refused")
        return 1
    data = reply.data or {}
    print(f"{data.get('email')}: {data.get('role')}")
    return 0

"""Infrastructure of each fault test module's own, so a test can stop and restart Postgres or
nats-server (same data directory, same port) without touching the session's servers."""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import asyncpg
import httpx
import pytest

from devstack.nats import NatsProcess, start_nats
from devstack.postgres import PostgresProcess, start_postgres
from tests.support.database import create_migrated_database
from tests.support.servers import Infra, free_port
from tests.support.stack import Stack, start_stack

REQUEST_TIMEOUT = 3.0  # the gateway's, lowered so outages answer quickly


@dataclass
class FaultInfra:
    root: Path
    log: IO[bytes]
    pg_port: int = field(default_factory=free_port)
    nats_port: int = field(default_factory=free_port)
    pg: PostgresProcess | None = None
    nats: NatsProcess | None = None

    def start_pg(self) -> None:
        self.pg = start_postgres(
            self.root / "pg", self.pg_port, stdout=self.log, stderr=subprocess.STDOUT, fsync=False
        )

    def stop_pg(self) -> None:
        assert self.pg is not None
        self.pg.stop()

    def start_nats(self) -> None:
        self.nats = start_nats(
            self.root / "nats",
            self.nats_port,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            sync_always=False,
        )

    def stop_nats(self) -> None:
        assert self.nats is not None
        self.nats.stop()

    @property
    def infra(self) -> Infra:
        assert self.pg is not None and self.nats is not None
        return Infra(self.pg.dsn, self.nats.url, postgres=self.pg, nats=self.nats)


@dataclass
class FaultStack:
    servers: FaultInfra
    stack: Stack
    database_url: str

    async def outbox_rows(self) -> int:
        dsn = self.database_url.replace("postgresql+asyncpg://", "postgresql://")
        conn = await asyncpg.connect(dsn)
        try:
            return int(await conn.fetchval("select count(*) from outbox"))
        finally:
            await conn.close()


@pytest.fixture(scope="module")
def fault_stack(request: pytest.FixtureRequest, artifacts_dir: Path) -> Iterator[FaultStack]:
    """A module may set STACK_ENV (extra service settings) and WORKERS (chat workers)."""
    root = Path(tempfile.mkdtemp(prefix="faults-", dir=artifacts_dir)).resolve()
    with open(root / "servers.log", "wb") as log:
        servers = FaultInfra(root, log)
        servers.start_pg()
        servers.start_nats()
        try:
            database_url = create_migrated_database(servers.infra.admin_dsn, prefix="sb_faults")
            stack = start_stack(
                servers.infra,
                database_url,
                root,
                workers=getattr(request.module, "WORKERS", 1),
                extra_env={
                    "GATEWAY_REQUEST_TIMEOUT": str(REQUEST_TIMEOUT),
                    **getattr(request.module, "STACK_ENV", {}),
                },
            )
            try:
                yield FaultStack(servers, stack, database_url)
            finally:
                stack.stop()
        finally:
            if servers.nats is not None:
                servers.nats.stop()
            if servers.pg is not None:
                servers.pg.stop()


@dataclass
class Outcome:
    key: str
    status: int
    seconds: float
    body: Any = None
    retry_after: str | None = None


async def create_thread(
    client: httpx.AsyncClient, headers: dict[str, str], key: str | None = None
) -> Outcome:
    """POST /api/threads with an Idempotency-Key; a transport failure is status 0."""
    key = key or uuid.uuid4().hex
    start = time.monotonic()
    try:
        r = await client.post(
            "/api/threads",
            json={"title": f"t-{key}"},
            headers={**headers, "Idempotency-Key": key},
        )
    except httpx.HTTPError:
        return Outcome(key, 0, time.monotonic() - start)
    body = r.json() if r.headers.get("content-type", "").startswith("application/json") else None
    return Outcome(key, r.status_code, time.monotonic() - start, body, r.headers.get("retry-after"))


async def wait_until(predicate: Any, timeout: float, every: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(every)
    return False

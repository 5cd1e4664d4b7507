"""Session fixtures: real Postgres and NATS, a migrated database, the running services.

Each test makes its own users and ids, so tests never depend on order or on each other.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.support.database import create_migrated_database
from tests.support.servers import Infra, free_port, infrastructure
from tests.support.stack import ServiceProcess, Stack, executable, service_env, wait_ready


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    with infrastructure() as servers:
        yield servers


@pytest.fixture(scope="session")
def database_url(infra: Infra) -> str:
    return create_migrated_database(infra.admin_dsn)


@pytest_asyncio.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_async_engine(database_url, pool_size=5)
    yield eng
    await eng.dispose()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = Path(os.environ.get("SWITCHBOARD_TEST_ARTIFACTS", "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def start_stack(
    infra: Infra,
    database_url: str,
    log_dir: Path,
    *,
    workers: int = 1,
    threads: int = 1,
    extra_env: dict[str, str] | None = None,
) -> Stack:
    port = free_port()
    env = service_env(
        {
            "THREADS_DATABASE_URL": database_url,
            "THREADS_NATS_URL": infra.nats_url,
            "THREADS_LOG_JSON": "true",
            "PYTHONUNBUFFERED": "1",
            "GATEWAY_NATS_URL": infra.nats_url,
            "GATEWAY_PORT": str(port),
            "GATEWAY_ARGON2_MEMORY_KIB": "1024",
            "GATEWAY_ARGON2_TIME_COST": "1",
            "WORKER_NATS_URL": infra.nats_url,
            # Tests hammer the API as one user; the limits have their own tests and stack.
            "GATEWAY_RATE_LIMIT_WRITES_PER_MINUTE": "1000000",
            "GATEWAY_RATE_LIMIT_WRITES_BURST": "100000",
            "GATEWAY_RATE_LIMIT_CHATS_PER_MINUTE": "1000000",
            "GATEWAY_RATE_LIMIT_CHATS_BURST": "100000",
            "GATEWAY_MAX_STREAMS_PER_USER": "1000",
            **(extra_env or {}),
        }
    )
    stack = Stack(base_url=f"http://127.0.0.1:{port}")
    serve = [executable("switchboard-threads"), "serve"]
    specs = [("threads", serve)] + [(f"threads-{i}", serve) for i in range(2, threads + 1)]
    if importlib.util.find_spec("chat_worker.cli") is not None:
        specs += [
            (f"chat-worker-{i}", [executable("switchboard-chat-worker")])
            for i in range(1, workers + 1)
        ]
    specs.append(("gateway", [executable("switchboard-gateway")]))
    for name, argv in specs:
        svc = ServiceProcess(name, argv, env, log_dir / f"{name}.log")
        svc.start()
        stack.services[name] = svc
    try:
        wait_ready(stack.base_url, list(stack.services.values()))
    except Exception:
        stack.stop()
        raise
    return stack


@pytest.fixture(scope="session")
def stack(infra: Infra, database_url: str, artifacts_dir: Path) -> Iterator[Stack]:
    log_dir = Path(tempfile.mkdtemp(prefix="stack-", dir=artifacts_dir))
    running = start_stack(infra, database_url, log_dir)
    yield running
    running.stop()


@pytest_asyncio.fixture
async def client(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=30) as c:
        yield c


class User:
    """A registered user with its token, made fresh for one test."""

    def __init__(
        self, client: httpx.AsyncClient, data: dict[str, Any], email: str, password: str
    ) -> None:
        self.client = client
        self.id = data["user"]["id"]
        self.token = data["access_token"]
        self.email = email
        self.password = password
        self.headers = {"Authorization": f"Bearer {self.token}"}

    async def get(self, url: str, **kw: Any) -> httpx.Response:
        return await self.client.get(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    async def post(self, url: str, **kw: Any) -> httpx.Response:
        return await self.client.post(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    async def patch(self, url: str, **kw: Any) -> httpx.Response:
        return await self.client.patch(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    async def put(self, url: str, **kw: Any) -> httpx.Response:
        return await self.client.put(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    async def delete(self, url: str, **kw: Any) -> httpx.Response:
        return await self.client.delete(
            url, headers={**self.headers, **kw.pop("headers", {})}, **kw
        )


async def register(client: httpx.AsyncClient, **extra: Any) -> User:
    email = f"user-{uuid.uuid4().hex[:12]}@example.com"
    password = "correct horse battery"
    r = await client.post(
        "/api/auth/register", json={"email": email, "password": password, **extra}
    )
    assert r.status_code == 201, r.text
    return User(client, r.json(), email, password)


@pytest_asyncio.fixture
async def user(client: httpx.AsyncClient) -> User:
    return await register(client)


@pytest_asyncio.fixture
async def other_user(client: httpx.AsyncClient) -> User:
    return await register(client)

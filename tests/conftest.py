"""Session fixtures: real Postgres and NATS, a migrated database, the running services.

Each test makes its own users and ids, so tests never depend on order or on each other.
"""

from __future__ import annotations

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
from tests.support.servers import Infra, infrastructure
from tests.support.stack import Stack, start_stack


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

"""Provider keys in Postgres: one transaction with the events, rows bound to their owner, and
server-key rotation (including the `rotate-secrets` command) without losing a stored key."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from contracts.base import Envelope
from contracts.commands import ConfigureProvider, RemoveProvider, SetTaskRoutes
from contracts.events import TaskRoute
from tests.support.database import create_migrated_database
from tests.support.servers import Infra
from tests.support.stack import executable, service_env
from threads.domain.errors import DomainError
from threads.handlers import configure_provider, remove_provider, set_task_routes
from threads.projections import Projector, default_projector
from threads.queries.providers import get_credentials
from threads.store.crypto import KeyRing
from threads.store.event_store import StoredEvent, load_stream
from threads.store.secrets import get_secret
from threads.store.tables import provider_settings, secrets, task_routes
from threads.store.unit_of_work import UnitOfWork

K1, K2 = os.urandom(32), os.urandom(32)
RING1 = KeyRing({"k1": K1}, "k1")
RING2 = KeyRing({"k1": K1, "k2": K2}, "k2")


def configure(user_id: uuid.UUID, provider: str, api_key: str) -> ConfigureProvider:
    return ConfigureProvider(
        meta=Envelope(user_id=user_id), provider=provider, api_key=api_key, api_key_set=True
    )


async def secret_row(conn: AsyncConnection, user_id: uuid.UUID, provider: str):  # type: ignore[no-untyped-def]
    return (
        await conn.execute(
            select(secrets).where(secrets.c.user_id == user_id, secrets.c.provider == provider)
        )
    ).first()


class FailsOn(Projector):
    """The real projections, then a crash on one event type: a fault in mid-transaction."""

    def __init__(self, event_type: str) -> None:
        super().__init__()  # no handlers of its own: every event goes through __call__
        self.inner = default_projector()
        self.event_type = event_type

    async def __call__(self, conn: AsyncConnection, event: StoredEvent) -> None:
        await self.inner(conn, event)
        if event.type == self.event_type:
            raise RuntimeError("injected fault")


async def test_remove_is_all_or_nothing(engine: AsyncEngine) -> None:
    user_id = uuid.uuid4()
    uow = UnitOfWork(engine, default_projector())
    configure_with_ring = lambda ctx: configure_provider.handle(ctx, keyring=RING1)  # noqa: E731
    assert (
        await uow.run(configure(user_id, "openai", "sk-keep-me-123456"), configure_with_ring)
    ).ok
    routes = SetTaskRoutes(
        meta=Envelope(user_id=user_id),
        use_separate_models=True,
        routes=[
            TaskRoute(task="chat", provider="openai", model="gpt-4o"),
            TaskRoute(task="title", provider="echo", model="echo"),
        ],
    )
    assert (await uow.run(routes, set_task_routes.handle)).ok

    broken = UnitOfWork(engine, FailsOn("TaskRoutesSet"))
    remove = RemoveProvider(meta=Envelope(user_id=user_id), provider="openai")
    with pytest.raises(RuntimeError, match="injected fault"):
        await broken.run(remove, remove_provider.handle)

    async with engine.connect() as conn:
        assert await get_secret(conn, RING1, user_id, "openai") == "sk-keep-me-123456"
        assert (
            await conn.scalar(
                select(provider_settings.c.key_set).where(provider_settings.c.user_id == user_id)
            )
        ) is True
        kept = (
            await conn.execute(select(task_routes.c.task).where(task_routes.c.user_id == user_id))
        ).scalars()
        assert sorted(kept) == ["chat", "title"]
        _, stored = await load_stream(conn, f"providers-{user_id}")
        assert [e.type for e in stored] == ["ProviderConfigured", "TaskRoutesSet"]

    assert (await uow.run(remove, remove_provider.handle)).ok
    async with engine.connect() as conn:
        assert await secret_row(conn, user_id, "openai") is None
        _, stored = await load_stream(conn, f"providers-{user_id}")
        assert [e.type for e in stored][-2:] == ["ProviderRemoved", "TaskRoutesSet"]
        assert stored[-1].data["routes"] == [{"task": "title", "provider": "echo", "model": "echo"}]


async def test_a_ciphertext_copied_to_another_users_row_does_not_open(engine: AsyncEngine) -> None:
    alice, mallory = uuid.uuid4(), uuid.uuid4()
    uow = UnitOfWork(engine, default_projector())
    for user_id in (alice, mallory):
        reply = await uow.run(
            configure(user_id, "openai", f"sk-{user_id.hex}"),
            lambda ctx: configure_provider.handle(ctx, keyring=RING1),
        )
        assert reply.ok
    async with engine.begin() as conn:
        stolen = await secret_row(conn, alice, "openai")
        await conn.execute(
            secrets.update()
            .where(secrets.c.user_id == mallory, secrets.c.provider == "openai")
            .values(ciphertext=stolen.ciphertext, key_id=stolen.key_id)
        )
    async with engine.connect() as conn:
        with pytest.raises(DomainError) as info:
            await get_credentials(conn, RING1, mallory, "openai")
        assert info.value.code == "unavailable"
        assert alice.hex not in info.value.detail
        creds = await get_credentials(conn, RING1, alice, "openai")
        assert creds.api_key == f"sk-{alice.hex}"


@pytest.fixture
def fresh_db_url(infra: Infra) -> str:
    """Rotation touches every row, so it gets a database of its own."""
    return create_migrated_database(infra.admin_dsn, prefix="sb_rotate")


@pytest_asyncio.fixture
async def fresh_db(fresh_db_url: str) -> AsyncIterator[tuple[str, AsyncEngine]]:
    eng = create_async_engine(fresh_db_url)
    yield fresh_db_url, eng
    await eng.dispose()


def rotate_cli(
    database_url: str, keys: dict[str, bytes], active: str
) -> subprocess.CompletedProcess[str]:
    env = service_env(
        {
            "THREADS_DATABASE_URL": database_url,
            "THREADS_ENVIRONMENT": "production",
            "THREADS_SECRET_KEYS": json.dumps(
                {k: base64.b64encode(v).decode() for k, v in keys.items()}
            ),
            "THREADS_ACTIVE_SECRET_KEY_ID": active,
        }
    )
    return subprocess.run(
        [executable("switchboard-threads"), "rotate-secrets"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_rotation_keeps_every_key_readable(fresh_db: tuple[str, AsyncEngine]) -> None:
    url, engine = fresh_db
    uow = UnitOfWork(engine, default_projector())
    users = [uuid.uuid4() for _ in range(3)]
    for user_id in users:
        reply = await uow.run(
            configure(user_id, "anthropic", f"sk-ant-{user_id.hex}"),
            lambda ctx: configure_provider.handle(ctx, keyring=RING1),
        )
        assert reply.ok
    # A new active key: old rows still open with their own key id, new writes use the new one.
    newcomer = uuid.uuid4()
    reply = await uow.run(
        configure(newcomer, "anthropic", f"sk-ant-{newcomer.hex}"),
        lambda ctx: configure_provider.handle(ctx, keyring=RING2),
    )
    assert reply.ok
    async with engine.connect() as conn:
        for user_id in users:
            assert (await secret_row(conn, user_id, "anthropic")).key_id == "k1"
            creds = await get_credentials(conn, RING2, user_id, "anthropic")
            assert creds.api_key == f"sk-ant-{user_id.hex}"
        assert (await secret_row(conn, newcomer, "anthropic")).key_id == "k2"
        before = {u: (await secret_row(conn, u, "anthropic")).ciphertext for u in users}

    # Without the old key the command refuses and changes nothing.
    refused = rotate_cli(url, {"k2": K2}, "k2")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert K2.hex() not in refused.stdout
    async with engine.connect() as conn:
        assert {(await secret_row(conn, u, "anthropic")).key_id for u in users} == {"k1"}

    done = rotate_cli(url, {"k1": K1, "k2": K2}, "k2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"count": 3' in done.stdout
    only_new = KeyRing({"k2": K2}, "k2")
    async with engine.connect() as conn:
        for user_id in [*users, newcomer]:
            row = await secret_row(conn, user_id, "anthropic")
            assert row.key_id == "k2"
            assert await get_secret(conn, only_new, user_id, "anthropic") == f"sk-ant-{user_id.hex}"
            if user_id in before:
                assert row.ciphertext != before[user_id]

"""Roles, admin endpoints and disabling users (issue 17): the first account of an empty
deployment is the admin (race-safe), `switchboard-threads admin grant|revoke` through the real
CLI, admins only on /api/admin (403 otherwise, the role read from the read model), the users
list paged with this day's and month's tokens, PATCH of role, disabled and quota with its 4xx
cases, a disabled user's token and API key refused at once on two gateways and its login 403,
and an admin still unable to read another user's thread."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from contracts.base import Envelope
from contracts.commands import RegisterUser, UpdateUser
from contracts.errors import ErrorCode
from tests.conftest import User, register
from tests.e2e.test_api_keys import bearer, eventually, make_key
from tests.support.database import create_migrated_database
from tests.support.gateways import lone_gateway
from tests.support.provider_chat import chat, new_thread
from tests.support.servers import Infra
from tests.support.stack import executable
from threads.handlers import register_user, update_user
from threads.projections import default_projector
from threads.store.tables import users
from threads.store.unit_of_work import UnitOfWork


def admin_cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "THREADS_DATABASE_URL": database_url, "THREADS_LOG_JSON": "false"}
    return subprocess.run(
        [executable("switchboard-threads"), "admin", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def an_admin(client: httpx.AsyncClient, database_url: str) -> User:
    admin = await register(client)
    done = admin_cli(database_url, "grant", admin.email)
    assert done.returncode == 0, done.stdout + done.stderr
    return admin


@pytest_asyncio.fixture(scope="module")
async def gateway_b(infra: Infra, artifacts_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    with lone_gateway(artifacts_dir, infra.nats_url, ready=True) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as c:
            yield c


def registration(email: str) -> RegisterUser:
    return RegisterUser(
        meta=Envelope(), user_id=uuid4(), email=email, password_hash="$argon2id$not-used"
    )


async def test_first_account_of_an_empty_deployment_is_admin_even_when_two_race(
    infra: Infra,
) -> None:
    url = await asyncio.to_thread(create_migrated_database, infra.admin_dsn, "sb_admin")
    engine = create_async_engine(url)
    try:
        uow = UnitOfWork(engine, default_projector())
        replies = await asyncio.gather(
            *(
                uow.run(registration(f"first-{i}@example.com"), register_user.handle)
                for i in range(4)
            )
        )
        assert all(r.ok for r in replies), replies
        assert sorted(r.data["role"] for r in replies if r.data) == [
            "admin",
            "user",
            "user",
            "user",
        ]
        later = await uow.run(registration("later@example.com"), register_user.handle)
        assert later.ok and later.data and later.data["role"] == "user"

        admin_id = next(r.data["id"] for r in replies if r.data and r.data["role"] == "admin")
        as_admin = Envelope(user_id=admin_id)
        demote = UpdateUser(meta=as_admin, user_id=admin_id, role="user")
        refused = await uow.run(demote, update_user.handle)
        assert refused.error and refused.error.code == ErrorCode.CONFLICT  # the last admin
        disable = UpdateUser(meta=as_admin, user_id=admin_id, disabled=True)
        refused = await uow.run(disable, update_user.handle)
        assert refused.error and refused.error.code == ErrorCode.CONFLICT
        async with engine.connect() as conn:
            roles = (await conn.execute(select(users.c.role, users.c.disabled))).all()
        assert sorted(roles) == [("admin", False)] + [("user", False)] * 4
    finally:
        await engine.dispose()


async def test_me_has_a_role_and_the_cli_grants_and_revokes(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await register(client)  # whoever came first, these two are not the first account
    second = await register(client)
    assert (await second.get("/api/me")).json()["role"] == "user"
    assert (await second.get("/api/admin/users")).status_code == 403

    granted = admin_cli(database_url, "grant", second.email.upper())
    assert granted.returncode == 0, granted.stderr
    assert f"{second.email}: admin" in granted.stdout
    assert (await second.get("/api/me")).json()["role"] == "admin"
    assert (await second.get("/api/admin/users")).status_code == 200  # the same token

    revoked = admin_cli(database_url, "revoke", second.email)
    assert revoked.returncode == 0, revoked.stderr
    assert (await second.get("/api/me")).json()["role"] == "user"
    assert (await second.get("/api/admin/users")).status_code == 403

    unknown = admin_cli(database_url, "grant", "nobody-here@example.com")
    assert unknown.returncode == 1 and "not found" in unknown.stdout


async def test_non_admins_get_403_on_every_admin_endpoint(user: User, other_user: User) -> None:
    assert (await user.get("/api/admin/users")).status_code == 403
    r = await user.patch(f"/api/admin/users/{other_user.id}", json={"role": "admin"})
    assert r.status_code == 403
    assert (await other_user.get("/api/me")).json()["role"] == "user"
    assert (
        await user.patch(f"/api/admin/users/{user.id}", json={"role": "admin"})
    ).status_code == 403


async def all_users(admin: User, limit: int) -> tuple[list[dict[str, Any]], int]:
    seen: list[dict[str, Any]] = []
    pages, cursor = 0, None
    while True:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        r = await admin.get("/api/admin/users", params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["users"]) <= limit
        seen += page["users"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return seen, pages


async def test_users_list_is_paged_with_usage_totals(
    client: httpx.AsyncClient, database_url: str
) -> None:
    admin = await an_admin(client, database_url)
    spender = await register(client)
    t = await new_thread(spender, "echo", "echo")
    assert (await chat(spender, str(t["id"]), "count these words please"))[
        -1
    ].event == "message_end"

    listed, pages = await all_users(admin, 2)
    ids = [u["id"] for u in listed]
    assert len(ids) == len(set(ids)) and pages >= 2
    assert {admin.id, spender.id} <= set(ids)
    mine = next(u for u in listed if u["id"] == spender.id)
    assert mine["email"] == spender.email and mine["role"] == "user" and not mine["disabled"]
    assert mine["quota"] == {"tokens_per_day": None, "tokens_per_month": None}
    assert mine["created_at"]
    assert mine["usage"]["tokens_today"] > 0
    assert mine["usage"]["tokens_this_month"] == mine["usage"]["tokens_today"]
    assert "password_hash" not in str(listed)
    r = await admin.get("/api/admin/users", params={"cursor": "not-a-cursor"})
    assert r.status_code == 400


async def test_patch_role_quota_and_its_bad_input(
    client: httpx.AsyncClient, database_url: str
) -> None:
    admin = await an_admin(client, database_url)
    target = await register(client)
    url = f"/api/admin/users/{target.id}"

    r = await admin.patch(url, json={"quota": {"tokens_per_day": 1000}})
    assert r.status_code == 200, r.text
    assert r.json()["quota"] == {"tokens_per_day": 1000, "tokens_per_month": None}
    r = await admin.patch(url, json={"quota": {"tokens_per_month": 5000}})
    assert r.json()["quota"] == {"tokens_per_day": 1000, "tokens_per_month": 5000}  # day kept
    r = await admin.patch(url, json={"quota": {"tokens_per_day": None}, "role": "admin"})
    assert r.status_code == 200, r.text
    assert r.json()["quota"] == {"tokens_per_day": None, "tokens_per_month": 5000}
    assert r.json()["role"] == "admin"
    assert (await target.get("/api/me")).json()["role"] == "admin"
    assert (await admin.patch(url, json={"role": "user"})).json()["role"] == "user"

    for bad in (
        {"quota": {"tokens_per_day": -1}},
        {"quota": {"tokens_per_month": -5}},
        {"quota": {"tokens_per_day": "10"}},
        {"quota": {"per_hour": 3}},
        {"role": "owner"},
        {"disabled": "yes"},
    ):
        r = await admin.patch(url, json=bad)
        assert r.status_code == 422, (bad, r.text)
    after = next(u for u in (await all_users(admin, 200))[0] if u["id"] == target.id)
    assert after["quota"] == {"tokens_per_day": None, "tokens_per_month": 5000}  # none applied
    assert after["role"] == "user" and not after["disabled"]

    assert (
        await admin.patch(f"/api/admin/users/{uuid4()}", json={"role": "user"})
    ).status_code == 404
    assert (await admin.patch("/api/admin/users/not-a-uuid", json={})).status_code == 422


async def test_a_disabled_user_is_refused_at_once_on_two_gateways(
    client: httpx.AsyncClient, database_url: str, gateway_b: httpx.AsyncClient
) -> None:
    admin = await an_admin(client, database_url)
    target = await register(client)
    key = str((await make_key(target))["key"])
    for gateway in (client, gateway_b):  # both remember the token and the key
        for credential in (target.token, key):
            assert (await gateway.get("/api/me", headers=bearer(credential))).status_code == 200

    r = await admin.patch(f"/api/admin/users/{target.id}", json={"disabled": True})
    assert r.status_code == 200 and r.json()["disabled"] is True
    for gateway in (client, gateway_b):
        for credential in (target.token, key):

            async def refused(g: httpx.AsyncClient = gateway, c: str = credential) -> bool:
                return (await g.get("/api/me", headers=bearer(c))).status_code == 401

            assert await eventually(refused), (gateway.base_url, credential[:3])
    login = {"email": target.email, "password": target.password}
    assert (await client.post("/api/auth/login", json=login)).status_code == 403
    wrong = {"email": target.email, "password": "not the password"}
    assert (await client.post("/api/auth/login", json=wrong)).status_code == 401

    r = await admin.patch(f"/api/admin/users/{target.id}", json={"disabled": False})
    assert r.status_code == 200 and r.json()["disabled"] is False
    assert (await client.post("/api/auth/login", json=login)).status_code == 200

    async def key_works_again() -> bool:
        return (await gateway_b.get("/api/me", headers=bearer(key))).status_code == 200

    assert await eventually(key_works_again)


async def test_a_disabled_admin_cannot_enable_themself(
    client: httpx.AsyncClient, database_url: str
) -> None:
    first, second = await an_admin(client, database_url), await an_admin(client, database_url)
    r = await first.patch(f"/api/admin/users/{second.id}", json={"disabled": True})
    assert r.status_code == 200, r.text

    async def refused() -> bool:
        r = await second.patch(f"/api/admin/users/{second.id}", json={"disabled": False})
        return r.status_code == 401

    assert await eventually(refused)
    listed = (await all_users(first, 200))[0]
    assert next(u for u in listed if u["id"] == second.id)["disabled"] is True


async def test_an_admin_cannot_read_another_users_thread(
    client: httpx.AsyncClient, database_url: str, user: User
) -> None:
    admin = await an_admin(client, database_url)
    t = await new_thread(user, "echo", "echo")
    assert (await user.get(f"/api/threads/{t['id']}")).status_code == 200
    assert (await admin.get(f"/api/threads/{t['id']}")).status_code == 404
    assert (await admin.get(f"/api/threads/{t['id']}/messages")).status_code == 404
    assert t["id"] not in str((await admin.get("/api/threads")).json())

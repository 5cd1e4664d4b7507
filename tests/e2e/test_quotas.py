"""Token quotas (issue 17): a chat, regenerate or edit by a user at or over a daily or monthly
quota answers 429 `quota_exceeded` with `Retry-After` (seconds to the next UTC period) and
stores nothing; under the quota (or unlimited again) chats go on. /v1 refuses in OpenAI's
shape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.conftest import User, register
from tests.e2e.test_admin import an_admin
from tests.e2e.test_api_keys import eventually
from tests.support.provider_chat import chat, messages, new_thread


async def spent_today(admin: User, user: User) -> int:
    r = await admin.get("/api/admin/users", params={"limit": 200})
    cursor = None
    while True:
        page = r.json()
        for u in page["users"]:
            if u["id"] == user.id:
                return int(u["usage"]["tokens_today"])
        cursor = page["next_cursor"]
        assert cursor is not None, "user not listed"
        r = await admin.get("/api/admin/users", params={"limit": 200, "cursor": cursor})


async def set_quota(admin: User, user: User, **quota: int | None) -> None:
    r = await admin.patch(f"/api/admin/users/{user.id}", json={"quota": quota})
    assert r.status_code == 200, r.text


async def refused(user: User, url: str, body: dict[str, Any]) -> httpx.Response:
    r = await user.post(url, json=body)
    assert r.status_code == 429, r.text
    assert r.json() == {"detail": "Token quota exceeded", "code": "quota_exceeded"}
    return r


def until_next_day() -> float:
    now = datetime.now(UTC)
    return (
        datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1) - now
    ).total_seconds()


async def test_over_quota_chat_regenerate_and_edit_are_refused_and_store_nothing(
    client: httpx.AsyncClient, database_url: str
) -> None:
    admin = await an_admin(client, database_url)
    user = await register(client)
    t = str((await new_thread(user, "echo", "echo"))["id"])
    assert (await chat(user, t, "one two three four"))[-1].event == "message_end"

    async def counted() -> bool:
        return await spent_today(admin, user) > 0

    assert await eventually(counted)
    spent = await spent_today(admin, user)
    before = await messages(user, t)
    question, answer = before[-2]["id"], before[-1]["id"]

    await set_quota(admin, user, tokens_per_day=spent + 1)  # under: still fine
    assert (await chat(user, t, "still fine"))[-1].event == "message_end"

    async def over() -> bool:
        return await spent_today(admin, user) >= spent + 1

    assert await eventually(over)
    before = await messages(user, t)
    r = await refused(user, f"/api/threads/{t}/chat", {"content": "too much"})
    wait = int(r.headers["Retry-After"])
    assert 0 < wait <= until_next_day() + 2
    await refused(user, f"/api/threads/{t}/messages/{answer}/regenerate", {})
    await refused(user, f"/api/threads/{t}/messages/{question}/edit", {"content": "edited"})
    threads_before = (await user.get("/api/threads")).json()
    conversation = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "earlier question"},
        {"role": "assistant", "content": "earlier answer"},
        {"role": "user", "content": "hi"},
    ]
    v1 = await user.post(
        "/v1/chat/completions", json={"model": "echo/echo", "messages": conversation}
    )
    assert v1.status_code == 429 and v1.json()["error"]["code"] == "quota_exceeded"
    assert "Retry-After" in v1.headers
    assert (await user.get("/api/threads")).json() == threads_before  # no thread left behind
    assert await messages(user, t) == before  # nothing stored
    thread = (await user.get(f"/api/threads/{t}")).json()
    assert thread["message_count"] == len(before)

    await set_quota(admin, user, tokens_per_day=None, tokens_per_month=spent)
    r = await refused(user, f"/api/threads/{t}/chat", {"content": "month"})
    now = datetime.now(UTC)
    first = datetime(now.year, now.month, 1, tzinfo=UTC)
    next_month = (first + timedelta(days=32)).replace(day=1)
    assert abs(int(r.headers["Retry-After"]) - (next_month - now).total_seconds()) < 60

    await set_quota(admin, user, tokens_per_month=None)  # unlimited again
    assert (await chat(user, t, "free again"))[-1].event == "message_end"


async def test_a_quota_of_another_user_does_not_touch_mine(
    client: httpx.AsyncClient, database_url: str, user: User, other_user: User
) -> None:
    admin = await an_admin(client, database_url)
    await set_quota(admin, other_user, tokens_per_day=0)
    t = str((await new_thread(other_user, "echo", "echo"))["id"])
    await refused(other_user, f"/api/threads/{t}/chat", {"content": "zero quota"})
    mine = str((await new_thread(user, "echo", "echo"))["id"])
    assert (await chat(user, mine, "not limited"))[-1].event == "message_end"

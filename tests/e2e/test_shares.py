"""Share links through the real stack: a snapshot of the active path read without a token,
later messages never in it, nothing in it that names the user or the thread, listed and
revoked by the owner only, gone with the thread."""

from __future__ import annotations

import re

import httpx

from tests.conftest import User
from tests.e2e.test_conversation_tree import chat, make_thread


async def shared(client: httpx.AsyncClient, share_id: str) -> httpx.Response:
    return await client.get(f"/api/shared/{share_id}")  # no token


async def share(user: User, thread_id: str) -> dict[str, str]:
    r = await user.post(f"/api/threads/{thread_id}/share")
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_a_link_shows_the_active_path_as_it_was_without_a_token(
    user: User, client: httpx.AsyncClient
) -> None:
    thread = await make_thread(user, title="Shared <b>title</b>")
    tid = thread["id"]
    await chat(user, tid, "what is a fjord?")
    link = await share(user, tid)
    assert set(link) == {"share_id", "url", "created_at"}
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", link["share_id"])  # 192 random bits
    assert link["url"].endswith(f"/shared/{link['share_id']}")
    await chat(user, tid, "a later question")

    r = await shared(client, link["share_id"])
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"title", "messages", "created_at"}
    assert body["title"] == "Shared <b>title</b>"
    assert [(m["role"], m["content"]) for m in body["messages"]] == [
        ("user", "what is a fjord?"),
        ("assistant", "Echo: what is a fjord?"),
    ]
    assert all(set(m) == {"role", "content", "created_at"} for m in body["messages"])
    for secret in (user.id, tid, user.email, thread["model"] + "/"):
        assert secret not in r.text
    page = await client.get(link["url"].removeprefix(str(client.base_url).rstrip("/")))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]

    second = await share(user, tid)  # a later link holds the later messages
    later = (await shared(client, second["share_id"])).json()
    assert len(later["messages"]) == 4


async def test_links_are_listed_and_revoked_by_their_owner_only(
    user: User, other_user: User, client: httpx.AsyncClient
) -> None:
    tid = (await make_thread(user))["id"]
    await chat(user, tid, "hello")
    first, second = await share(user, tid), await share(user, tid)
    r = await user.get(f"/api/threads/{tid}/shares")
    assert r.status_code == 200
    assert {s["share_id"] for s in r.json()["shares"]} == {first["share_id"], second["share_id"]}
    assert (await other_user.get(f"/api/threads/{tid}/shares")).status_code == 404
    assert (await other_user.post(f"/api/threads/{tid}/share")).status_code == 404
    assert (await other_user.delete(f"/api/shares/{first['share_id']}")).status_code == 404
    assert (await shared(client, first["share_id"])).status_code == 200

    r = await user.delete(f"/api/shares/{first['share_id']}")
    assert r.status_code == 204
    assert (await shared(client, first["share_id"])).status_code == 404
    assert (await user.delete(f"/api/shares/{first['share_id']}")).status_code == 404
    listed = (await user.get(f"/api/threads/{tid}/shares")).json()["shares"]
    assert [s["share_id"] for s in listed] == [second["share_id"]]
    assert (await shared(client, second["share_id"])).status_code == 200


async def test_deleting_the_thread_revokes_its_links(user: User, client: httpx.AsyncClient) -> None:
    tid = (await make_thread(user))["id"]
    await chat(user, tid, "soon gone")
    link = await share(user, tid)
    assert (await shared(client, link["share_id"])).status_code == 200
    assert (await user.delete(f"/api/threads/{tid}")).status_code == 200
    assert (await shared(client, link["share_id"])).status_code == 404
    assert (await user.delete(f"/api/shares/{link['share_id']}")).status_code == 404


async def test_unknown_and_malformed_links(client: httpx.AsyncClient) -> None:
    assert (await shared(client, "A" * 32)).status_code == 404
    assert (await shared(client, "short")).status_code == 422
    assert (await shared(client, "x" * 30 + "%2F..")).status_code in (404, 422)

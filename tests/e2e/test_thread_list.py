"""The global thread list: every thread of the user, newest activity first, with project name
and message count; page/page_size and limit/offset, project filter, title search, cursor."""

from __future__ import annotations

import base64
import json
import uuid

from tests.conftest import User


async def make_threads(user: User, titles: list[str], **body: object) -> list[dict]:
    made = []
    for title in titles:
        r = await user.post("/api/threads", json={"title": title, **body})
        assert r.status_code == 201, r.text
        made.append(r.json())
    return made


async def ids(user: User, query: str = "") -> list[str]:
    r = await user.get(f"/api/threads{query}")
    assert r.status_code == 200, r.text
    return [t["id"] for t in r.json()["threads"]]


async def test_pages_and_limit_offset(user: User) -> None:
    made = await make_threads(user, [f"t{i}" for i in range(7)])
    newest_first = [t["id"] for t in reversed(made)]

    r = await user.get("/api/threads?page=1&page_size=3")
    page = r.json()
    assert (page["total"], page["page"], page["page_size"], page["has_more"]) == (7, 1, 3, True)
    assert [t["id"] for t in page["threads"]] == newest_first[:3]
    page = (await user.get("/api/threads?page=3&page_size=3")).json()
    assert [t["id"] for t in page["threads"]] == newest_first[6:]
    assert page["page"] == 3 and page["has_more"] is False
    page = (await user.get("/api/threads?page=4&page_size=3")).json()
    assert page["threads"] == [] and page["total"] == 7 and page["has_more"] is False

    assert await ids(user, "?limit=2&offset=1") == newest_first[1:3]
    page = (await user.get("/api/threads?limit=2&offset=4")).json()
    assert page["page"] == 3 and page["page_size"] == 2
    assert await ids(user, "?page_size=50") == newest_first
    for bad in ("page=0", "page_size=0", "page_size=51", "limit=51", "offset=-1", "page=x"):
        assert (await user.get(f"/api/threads?{bad}")).status_code == 422, bad


async def test_with_and_without_project_with_names_and_counts(user: User) -> None:
    project = (await user.post("/api/projects", json={"name": "Work"})).json()
    loose, inside = (
        await make_threads(user, ["loose"]),
        await make_threads(user, ["inside"], project_id=project["id"]),
    )
    await user.post(f"/api/threads/{loose[0]['id']}/messages", json={"role": "user"})
    await user.post(f"/api/threads/{loose[0]['id']}/messages", json={"role": "assistant"})
    threads = (await user.get("/api/threads")).json()["threads"]
    assert [(t["title"], t["project_name"], t["message_count"]) for t in threads] == [
        ("loose", None, 2),
        ("inside", "Work", 0),
    ]
    assert await ids(user, f"?project_id={project['id']}") == [inside[0]["id"]]
    assert (await user.get("/api/threads?project_id=not-a-uuid")).status_code == 422
    r = await user.get(f"/api/threads?project_id={uuid.uuid4()}")
    assert r.status_code == 404


async def test_order_follows_messages_not_renames(user: User) -> None:
    a, b, c = await make_threads(user, ["a", "b", "c"])
    assert await ids(user) == [c["id"], b["id"], a["id"]]
    await user.post(f"/api/threads/{a['id']}/messages", json={"role": "user", "content": "x"})
    assert await ids(user) == [a["id"], c["id"], b["id"]]
    await user.patch(f"/api/threads/{b['id']}", json={"title": "b renamed"})
    assert await ids(user) == [a["id"], c["id"], b["id"]]
    await user.post(f"/api/threads/{b['id']}/messages", json={"role": "assistant"})
    assert await ids(user) == [b["id"], a["id"], c["id"]]


async def test_title_search(user: User) -> None:
    made = await make_threads(
        user, ["Quarterly Budget", "budget review", "Holiday plans", "100% sure", "snake_case"]
    )
    by_title = {t["title"]: t["id"] for t in made}
    r = await user.get("/api/threads", params={"q": "BUDGET"})
    assert r.json()["total"] == 2
    assert [t["id"] for t in r.json()["threads"]] == [
        by_title["budget review"],
        by_title["Quarterly Budget"],
    ]
    assert await ids(user, "?q=%25") == [by_title["100% sure"]]  # % is literal, not a wildcard
    assert await ids(user, "?q=_") == [by_title["snake_case"]]
    assert await ids(user, "?q=nothing-like-this") == []
    r = await user.get("/api/threads", params={"q": "plan", "page_size": 1})
    assert r.json()["total"] == 1 and r.json()["has_more"] is False
    assert (await user.get("/api/threads", params={"q": "x" * 256})).status_code == 422
    assert (await user.get("/api/threads", params={"q": "nul\x00"})).status_code == 422


async def test_cursor_walks_every_thread_once(user: User) -> None:
    made = await make_threads(user, [f"c{i}" for i in range(9)])
    # activity in the middle reorders; the cursor follows (last_activity_at, id)
    await user.post(f"/api/threads/{made[2]['id']}/messages", json={"role": "user"})
    expected = await ids(user, "?page_size=50")
    seen: list[str] = []
    r = await user.get("/api/threads?page_size=4&cursor=")
    page = r.json()
    cursor = page["next_cursor"]
    seen += [t["id"] for t in page["threads"]]
    while cursor:
        page = (await user.get("/api/threads", params={"page_size": 4, "cursor": cursor})).json()
        seen += [t["id"] for t in page["threads"]]
        cursor = page["next_cursor"]
        assert (cursor is not None) == page["has_more"]
    assert seen == expected and len(seen) == 9


async def test_invalid_cursor_is_400(user: User) -> None:
    def enc(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    for cursor in (
        "garbage",
        "eyJhIjogMX0",
        "W10",
        enc(["2024-01-01T00:00:00+00:00", 5]),
        enc([5, str(uuid.uuid4())]),
        enc(["2024-01-01T00:00:00", str(uuid.uuid4())]),
        enc(["0001-01-01T00:00:00+05:00", str(uuid.uuid4())]),
        "\u00e9",
    ):
        r = await user.get("/api/threads", params={"cursor": cursor})
        assert r.status_code == 400, (cursor, r.text)
        assert r.json() == {"detail": "Invalid cursor"}
    assert (await user.get("/api/threads", params={"cursor": "x" * 513})).status_code == 422


async def test_project_threads_page_shape(user: User) -> None:
    project = (await user.post("/api/projects", json={"name": "P"})).json()
    made = await make_threads(user, ["p1", "p2", "p3"], project_id=project["id"])
    await make_threads(user, ["elsewhere"])
    r = await user.get(f"/api/projects/{project['id']}/threads?page=2&page_size=2")
    page = r.json()
    assert set(page) == {"threads", "total", "page", "page_size", "has_more", "next_cursor"}
    assert (page["total"], page["page"], page["page_size"], page["has_more"]) == (3, 2, 2, False)
    assert [t["id"] for t in page["threads"]] == [made[0]["id"]]

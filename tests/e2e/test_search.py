"""Full-text search through the running stack (`GET /api/search`): stemmed, every branch,
titles, ranked, owner-only, deleted gone, refusals, German and Chinese, pages, and rebuilt
by replay."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.queries import SearchMessages
from tests.conftest import User
from threads.projections import default_projector
from threads.queries import search as search_query
from threads.replay.runner import replay


async def thread(user: User, title: str = "Untitled", **fields: Any) -> str:
    body = {"title": title, "model_provider": "echo", "model": "echo", **fields}
    r = await user.post("/api/threads", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def message(user: User, tid: str, content: str, role: str = "user", **extra: Any) -> str:
    body = {"role": role, "content": content, **extra}
    r = await user.post(f"/api/threads/{tid}/messages", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def search(user: User, q: str, **params: Any) -> dict[str, Any]:
    r = await user.get("/api/search", params={"q": q, **params})
    assert r.status_code == 200, r.text
    return dict(r.json())


def marked(hit: dict[str, Any]) -> list[str]:
    return [hit["snippet"][a:b] for a, b in hit["highlights"]]


async def test_a_word_finds_its_other_forms_with_a_marked_snippet(user: User) -> None:
    tid = await thread(user, "Field notes")
    mid = await message(user, tid, "The glaciers of the valley retreat every summer.")
    await message(user, tid, "Nothing about ice here.", role="assistant")

    page = await search(user, "glacier")

    assert [(h["message_id"], h["thread_id"]) for h in page["results"]] == [(mid, tid)]
    hit = page["results"][0]
    assert hit["role"] == "user" and hit["thread_title"] == "Field notes"
    assert "glaciers of the valley" in hit["snippet"]
    assert marked(hit) == ["glaciers"]
    assert page["next_cursor"] is None
    assert [h["message_id"] for h in (await search(user, "retreating"))["results"]] == [mid]


async def test_every_branch_is_searched_not_only_the_active_path(user: User) -> None:
    tid = await thread(user)
    root = await message(user, tid, "Which rock should I study?")
    old = await message(user, tid, "Try obsidian first.", role="assistant", parent_id=root)
    new = await message(user, tid, "Try granite first.", role="assistant", parent_id=root)
    active = [m["id"] for m in (await user.get(f"/api/threads/{tid}/messages")).json()["messages"]]
    assert old not in active and new in active

    assert [h["message_id"] for h in (await search(user, "obsidian"))["results"]] == [old]


async def test_a_title_hit_has_no_message_and_ranks_above_a_passing_mention(user: User) -> None:
    tid = await thread(user, "Moraine survey")
    other = await thread(user, "Something else")
    mid = await message(user, other, "We camped near a moraine once, then went on talking.")

    hits = (await search(user, "moraines"))["results"]

    assert [(h["thread_id"], h["message_id"], h["role"]) for h in hits] == [
        (tid, None, None),
        (other, mid, "user"),
    ]
    assert hits[0]["snippet"] == "Moraine survey" and marked(hits[0]) == ["Moraine"]


async def test_the_better_match_comes_first(user: User) -> None:
    tid = await thread(user)
    once = await message(
        user,
        tid,
        "A long walk across the plateau, many hours of it, with one basalt boulder seen "
        "in passing among the heather, the streams, the sheep and the low clouds of the day.",
    )
    often = await message(user, tid, "Basalt, basalt everywhere: basalt columns.")
    phrase = await search(user, '"basalt columns"')

    assert [h["message_id"] for h in (await search(user, "basalt"))["results"]] == [often, once]
    assert [h["message_id"] for h in phrase["results"]] == [often]


async def test_another_users_words_never_appear(user: User, other_user: User) -> None:
    theirs = await thread(other_user, "Quartzite diary")
    await message(other_user, theirs, "My secret quartzite vein is behind the barn.")
    mine = await thread(user)
    mid = await message(user, mine, "I also like quartzite.")

    assert (await search(user, "barn"))["results"] == []
    hits = (await search(user, "quartzite"))["results"]
    assert [h["message_id"] for h in hits] == [mid]
    assert all("barn" not in h["snippet"] and "diary" not in h["thread_title"] for h in hits)
    assert (await search(other_user, "like"))["results"] == []


async def test_deleted_messages_and_threads_are_never_found(user: User) -> None:
    tid = await thread(user, "Pumice log")
    kept = await message(user, tid, "pumice floats")
    gone = await message(user, tid, "pumice sinks, said nobody")
    assert (await user.delete(f"/api/messages/{gone}")).status_code == 200
    assert [h["message_id"] for h in (await search(user, "pumice"))["results"]] == [None, kept]
    assert (await search(user, "nobody"))["results"] == []

    assert (await user.delete(f"/api/threads/{tid}")).status_code in (200, 204)
    assert (await search(user, "pumice"))["results"] == []


async def test_refusals(user: User, other_user: User) -> None:
    project = (await other_user.post("/api/projects", json={"name": "theirs"})).json()["id"]
    for params in (
        {},
        {"q": ""},
        {"q": "   "},
        {"q": "a" * 501},
        {"q": "x", "limit": 0},
        {"q": "x", "limit": 101},
        {"q": "x", "project_id": "not-a-uuid"},
    ):
        r = await user.get("/api/search", params=params)
        assert r.status_code == 422, (params, r.text)
    for cursor in ("garbage", "W10", "WzEsMiwzXQ"):
        r = await user.get("/api/search", params={"q": "x", "cursor": cursor})
        assert r.status_code == 400, (cursor, r.text)
    r = await user.get("/api/search", params={"q": "x", "project_id": project})
    assert r.status_code == 404, r.text
    assert (await user.get("/api/search", params={"q": "a" * 500})).status_code == 200


async def test_search_syntax_never_fails(user: User) -> None:
    tid = await thread(user)
    await message(user, tid, "colons: and (brackets) & ampersands | pipes!")
    for q in ("!!!", "&&& ::: ()", "'", '"', "\\", "a:*", "<->", "!(", "-", "or", '"unclosed'):
        r = await user.get("/api/search", params={"q": q})
        assert r.status_code == 200, (q, r.text)
    assert (await search(user, "!!! ???"))["results"] == []
    assert len((await search(user, "brackets)"))["results"]) == 1


async def test_markup_in_a_message_is_never_markup_in_its_snippet(user: User) -> None:
    tid = await thread(user)
    await message(user, tid, "<img src=x onerror=alert(1)> look at the <b>feldspar</b> here")
    hit = (await search(user, "feldspar"))["results"][0]
    assert "<b>" not in hit["snippet"]  # tags PostgreSQL's parser knows are left out
    assert not {"\ue000", "\ue001"} & set(hit["snippet"])  # the highlight markers are parsed out
    assert marked(hit) == ["feldspar"]


async def test_german_words_match_as_written_and_chinese_by_characters(user: User) -> None:
    tid = await thread(user, "Reise")
    german = await message(user, tid, "DIE GLETSCHER schmelzen, sagte man über die Häuser.")
    chinese = await message(user, tid, "我们看到冰川正在融化。")

    for q in ("gletscher", "Gletscher", "häuser", "ÜBER"):
        assert [h["message_id"] for h in (await search(user, q))["results"]] == [german], q
    assert (await search(user, "Haus"))["results"] == []  # no German stemming
    for q in ("冰川", "融化", "冰川正在", "冰"):
        assert [h["message_id"] for h in (await search(user, q))["results"]] == [chinese], q
    assert (await search(user, "冰山"))["results"] == []
    assert [h["message_id"] for h in (await search(user, "冰川 gletscher"))["results"]] == []


async def test_pages_follow_the_cursor_through_every_match(user: User) -> None:
    tid = await thread(user)
    other = await thread(user, "Elsewhere")
    wanted = {
        await message(user, tid, f"note {i}: gneiss " + "gneiss " * (i % 4)) for i in range(23)
    }
    await message(user, other, "no such rock")

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 10, **({"cursor": cursor} if cursor else {})}
        page = await search(user, "gneiss", **params)
        seen += [h["message_id"] for h in page["results"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        await message(user, tid, "gneiss arriving between pages stays out of this search")
    assert pages == 3 and len(seen) == len(set(seen)) == 23 and set(seen) == wanted


async def test_project_filter(user: User) -> None:
    project = (await user.post("/api/projects", json={"name": "rocks"})).json()["id"]
    inside = await thread(user, "Chert inside", project_id=project)
    outside = await thread(user, "Chert outside")
    mid = await message(user, inside, "chert nodules")
    await message(user, outside, "chert too")

    hits = (await search(user, "chert", project_id=project))["results"]
    assert {(h["thread_id"], h["message_id"]) for h in hits} == {(inside, None), (inside, mid)}


async def test_candidates_are_the_recent_matches_or_all_of_a_rare_words(
    user: User, engine: AsyncEngine
) -> None:
    """The bounds of what is ranked, made small enough to cross with 30 messages (the stack's
    own are 10,000 recent messages, 50 enough, 2,000 probed): a word common among the recent
    messages is ranked among them only; a rarer one gets every match (the recent ones and
    the probed older ones); one with many old matches gets as many as the probe takes."""
    tid = await thread(user, "Rocks")
    posted = []
    for i in range(30):
        words = ["basalt"]
        words += ["obsidian"] if i < 10 else []
        words += ["pumice"] if i in (2, 5, 28) else []
        posted.append(await message(user, tid, f"sample {i}: " + " ".join(words)))
    me = uuid.UUID((await user.get("/api/me")).json()["id"])

    async def found(word: str) -> list[str]:
        async with engine.connect() as conn:
            page = await search_query.search(
                conn,
                me,
                SearchMessages(q=word, limit=100),
                candidates=50,
                window=10,
                enough=4,
                probe=5,
            )
        return [str(h.message_id) for h in page.results]

    assert sorted(await found("basalt")) == sorted(posted[20:])  # the 10 newest: enough
    assert sorted(await found("pumice")) == sorted(posted[i] for i in (2, 5, 28))  # all
    obsidian = await found("obsidian")
    assert len(obsidian) == 5 and set(obsidian) <= set(posted[:10])  # as many as probed
    hits = (await search(user, "obsidian", limit=100))["results"]
    assert sorted(h["message_id"] for h in hits) == sorted(posted[:10])  # the stack's bounds


async def test_replay_rebuilds_the_search(user: User, engine: AsyncEngine) -> None:
    tid = await thread(user, "Olivine notes")
    mid = await message(user, tid, "olivine turns to serpentine")
    await message(user, tid, "冰川 and olivine")
    before = await search(user, "olivine")

    assert (await replay(engine, default_projector(), check=True)).differences == []
    await replay(engine, default_projector())

    assert await search(user, "olivine") == before
    assert [h["message_id"] for h in (await search(user, "serpentine"))["results"]] == [mid]
    async with engine.connect() as conn:
        indexes = set(
            (
                await conn.execute(
                    text(
                        "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"
                        " AND tablename IN ('messages', 'threads')"
                    )
                )
            ).scalars()
        )
    assert {"ix_messages_user_id_search", "ix_threads_user_id_search"} <= indexes

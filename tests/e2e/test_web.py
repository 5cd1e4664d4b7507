"""The web page in a real browser (Debian's Chromium driven by Playwright) against the running
stack: sign up, a thread with `echo`, tokens streaming, Stop, resuming after a reload, model
output with `<script>` shown as text, Markdown rendered, the sidebar, the header following a
generated title, and the conversation tree: regenerate, edit, a switch between versions.
Screenshots go to the test artifacts."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.conftest import User, register
from tests.support.stack import Stack

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
async_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed")


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium, installed with apt when missing and we are root (no browser
    downloads: Playwright only drives it)."""
    if not CHROMIUM.exists():
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            pytest.skip("needs /usr/bin/chromium (apt-get install chromium, as root)")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-q", "chromium"]
        if subprocess.run(install, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
            result = subprocess.run(install, env=env, capture_output=True, text=True)
            if result.returncode != 0 or not CHROMIUM.exists():
                pytest.skip(f"could not install chromium: {result.stderr[-500:]}")
    return CHROMIUM


@pytest_asyncio.fixture(scope="session")
async def browser(chromium: Path) -> AsyncIterator[Any]:
    async with async_api.async_playwright() as pw:
        instance = await pw.chromium.launch(executable_path=str(chromium), args=ARGS)
        yield instance
        await instance.close()


@pytest_asyncio.fixture
async def page(browser: Any, stack: Stack) -> AsyncIterator[Any]:
    context = await browser.new_context(
        base_url=stack.base_url, viewport={"width": 1280, "height": 800}
    )
    context.set_default_timeout(20_000)
    tab = await context.new_page()
    yield tab
    await context.close()


def shot(artifacts_dir: Path, name: str) -> str:
    folder = artifacts_dir / "web"
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / f"{name}.png")


async def signed_in(page: Any, user: User, hash_: str = "") -> None:
    await page.goto("/")
    await page.evaluate("t => localStorage.setItem('switchboard.token', t)", user.token)
    await page.goto(f"/#/{hash_}")
    await page.wait_for_selector("#app:not([hidden])")


async def echo_thread(user: User, model: str = "echo-slow", **fields: Any) -> str:
    r = await user.post("/api/threads", json={"model_provider": "echo", "model": model, **fields})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def send(page: Any, text: str) -> Any:
    await page.fill("#composer", text)
    await page.click("#send")
    return page.locator("#messages article.assistant").last


async def stored_messages(user: User, thread_id: str) -> list[dict[str, Any]]:
    r = await user.get(f"/api/threads/{thread_id}/messages")
    assert r.status_code == 200, r.text
    return list(r.json()["messages"])


async def test_sign_up_new_thread_and_tokens_stream(
    page: Any, client: httpx.AsyncClient, artifacts_dir: Path
) -> None:
    await page.goto("/")
    await page.click("#auth-toggle")
    email = f"web-{os.urandom(4).hex()}@example.com"
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", "correct horse battery")
    await page.fill("input[name=display_name]", "Web Tester")
    await page.screenshot(path=shot(artifacts_dir, "01-sign-up"))
    await page.click("#auth-submit")
    await page.wait_for_selector("#app:not([hidden])")
    assert await page.text_content("#me") == "Web Tester"

    await page.goto("/#/new")
    await page.wait_for_selector("#new-thread")
    await page.select_option("#new-provider", "echo")
    await page.select_option("#new-model", "echo-slow")
    await page.fill("#new-title", "Browser chat")
    await page.click("#create-thread")
    await page.wait_for_selector("#composer")
    assert await page.text_content("#thread-title") == "Browser chat"

    # Record every length the answer's text goes through while it streams.
    await page.evaluate("""() => {
        window.__lengths = [];
        new MutationObserver(() => {
            const a = [...document.querySelectorAll('#messages article.assistant .body')].pop();
            if (a) window.__lengths.push(a.textContent.length);
        }).observe(document.getElementById('messages'),
                   {subtree: true, childList: true, characterData: true});
    }""")
    words = " ".join(f"w{i}" for i in range(25))
    answer = await send(page, words)
    await page.wait_for_selector("#messages article.assistant[data-status=complete]")
    assert (await answer.locator(".body").text_content()) == f"Echo: {words}"
    lengths = await page.evaluate("window.__lengths")
    partial = sorted({n for n in lengths if 0 < n < len(f"Echo: {words}")})
    assert len(partial) >= 5, lengths  # shown token by token, not all at once
    await page.screenshot(path=shot(artifacts_dir, "02-streamed-answer"))

    # The sidebar lists it with its message count.
    item = page.locator("#thread-groups li", has_text="Browser chat")
    await item.locator(".count", has_text="2").wait_for()


async def test_stop_cancels_the_answer(page: Any, user: User, artifacts_dir: Path) -> None:
    thread_id = await echo_thread(user)
    await signed_in(page, user, f"thread/{thread_id}")
    answer = await send(page, " ".join(f"word{i}" for i in range(200)))
    await answer.locator(".body", has_text="word3").wait_for()
    await page.click("#stop")
    await page.wait_for_selector("#messages article.assistant[data-status=cancelled]")
    await page.screenshot(path=shot(artifacts_dir, "03-stopped"))
    assert await page.is_visible("#send")
    stored = await stored_messages(user, thread_id)
    assert stored[-1]["status"] == "cancelled"
    assert "word199" not in stored[-1]["content"]


async def test_reload_mid_stream_resumes(page: Any, user: User, artifacts_dir: Path) -> None:
    thread_id = await echo_thread(user)
    await signed_in(page, user, f"thread/{thread_id}")
    words = " ".join(f"word{i}" for i in range(120))
    answer = await send(page, words)
    await answer.locator(".body", has_text="word5 ").wait_for()
    resumed: list[str | None] = []
    page.on(
        "request",
        lambda r: resumed.append(r.headers.get("last-event-id")) if "/stream" in r.url else None,
    )
    await page.reload()
    await page.wait_for_selector("#messages article.assistant[data-status=streaming]")
    await page.screenshot(path=shot(artifacts_dir, "04-resumed-after-reload"))
    await page.wait_for_selector(
        "#messages article.assistant[data-status=complete]", timeout=30_000
    )
    text = await page.locator("#messages article.assistant .body").last.text_content()
    assert text == f"Echo: {words}"  # nothing lost, nothing doubled
    assert resumed and resumed[0] is not None and int(resumed[0]) > 0  # Last-Event-ID sent
    stored = await stored_messages(user, thread_id)
    assert stored[-1]["content"] == text and stored[-1]["status"] == "complete"


async def test_model_output_with_script_is_shown_as_text(
    page: Any, user: User, artifacts_dir: Path
) -> None:
    thread_id = await echo_thread(user, model="echo")
    await signed_in(page, user, f"thread/{thread_id}")
    attack = '<script>window.__pwned=1</script> <img src=x onerror="window.__pwned=2"> **bold**'
    answer = await send(page, attack)
    await page.wait_for_selector("#messages article.assistant[data-status=complete]")
    body = answer.locator(".body")
    assert "<script>window.__pwned=1</script>" in (await body.text_content() or "")
    assert await body.locator("strong", has_text="bold").count() == 1  # markdown still works
    assert await page.locator("#messages script, #messages img").count() == 0
    assert await page.evaluate("typeof window.__pwned") == "undefined"
    await page.reload()  # the stored answer, rendered from the thread
    await page.wait_for_selector("#messages article.assistant")
    assert await page.locator("#messages script, #messages img").count() == 0
    assert await page.evaluate("typeof window.__pwned") == "undefined"
    await page.screenshot(path=shot(artifacts_dir, "05-script-as-text"))


async def test_sidebar_groups_scrolls_renames_and_deletes(
    page: Any, client: httpx.AsyncClient, artifacts_dir: Path
) -> None:
    user = await register(client)
    project = (await user.post("/api/projects", json={"name": "Roadmap"})).json()
    in_project = await echo_thread(user, title="Planned", project_id=project["id"])
    for i in range(30):
        await echo_thread(user, title=f"Loose {i:02d}")
    await signed_in(page, user)
    items = page.locator("#thread-groups li")
    await items.nth(24).wait_for()
    await page.locator("#thread-sentinel").scroll_into_view_if_needed()
    await items.nth(30).wait_for()  # the next page came in by scrolling
    assert await items.count() == 31
    group = page.locator("#thread-groups section.group", has_text="Roadmap")
    assert await group.locator("li").count() == 1

    await page.goto(f"/#/thread/{in_project}")
    await page.wait_for_selector("#thread-title")

    async def rename(dialog: Any) -> None:
        await dialog.accept("Renamed plan")

    async def confirm(dialog: Any) -> None:
        await dialog.accept()

    page.once("dialog", rename)
    await page.click("#rename")
    await page.locator("#thread-title", has_text="Renamed plan").wait_for()
    assert (await user.get(f"/api/threads/{in_project}")).json()["title"] == "Renamed plan"
    await page.select_option("#move-to", "")  # out of the project
    for _ in range(50):
        if (await user.get(f"/api/threads/{in_project}")).json()["project_id"] is None:
            break
        await page.wait_for_timeout(100)
    assert (await user.get(f"/api/threads/{in_project}")).json()["project_id"] is None
    await page.screenshot(path=shot(artifacts_dir, "06-sidebar"))
    page.once("dialog", confirm)
    await page.click("#delete-thread")
    await page.wait_for_selector("#new-thread")
    assert (await user.get(f"/api/threads/{in_project}")).status_code == 404


async def test_settings_keys_are_write_only(page: Any, user: User, artifacts_dir: Path) -> None:
    await signed_in(page, user, "settings")
    card = page.locator("form.provider[data-provider=openai]")
    await card.locator("input[name=api_key]").fill("sk-web-test-key-9876")
    await card.locator("button[type=submit]").click()
    card = page.locator("form.provider[data-provider=openai]", has_text="…9876")
    await card.wait_for()
    assert await card.locator("input[name=api_key]").input_value() == ""
    assert "sk-web-test-key" not in await page.content()
    await page.screenshot(path=shot(artifacts_dir, "07-settings"))


async def test_project_documents(page: Any, user: User, artifacts_dir: Path) -> None:
    project = (await user.post("/api/projects", json={"name": "Specs"})).json()
    await signed_in(page, user, f"projects/{project['id']}")
    form = page.locator("#paste-document")
    await form.locator("input[name=filename]").fill("notes.md")
    await form.locator("textarea[name=content]").fill("The launch is in May.")
    await form.locator("button[type=submit]").click()
    await page.locator("#project-documents li", has_text="notes.md").wait_for()
    docs = (await user.get(f"/api/projects/{project['id']}/documents")).json()["documents"]
    assert [d["filename"] for d in docs] == ["notes.md"]
    await page.screenshot(path=shot(artifacts_dir, "08-project-documents"))


async def api_thread(user: User, thread_id: str) -> dict[str, Any]:
    r = await user.get(f"/api/threads/{thread_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


async def every_message(user: User, thread_id: str) -> list[dict[str, Any]]:
    r = await user.get(f"/api/threads/{thread_id}/messages", params={"path": "all"})
    assert r.status_code == 200, r.text
    return list(r.json()["messages"])


async def test_markdown_lists_tables_and_code(page: Any, user: User, artifacts_dir: Path) -> None:
    thread_id = await echo_thread(user, model="echo")
    await signed_in(page, user, f"thread/{thread_id}")
    text = (
        "a list:\n\n- one\n- two\n\n## Notes\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "```python\nprint('<b>hi</b>')\n```"
    )
    answer = await send(page, text)
    await page.wait_for_selector("#messages article.assistant[data-status=complete]")
    for _ in range(2):  # as streamed, then as stored after a reload
        body = answer.locator(".body")
        await body.locator("ul > li", has_text="two").wait_for()
        assert await body.locator("ul > li").all_text_contents() == ["one", "two"]
        assert await body.locator("h2").text_content() == "Notes"
        assert await body.locator("table th").all_text_contents() == ["a", "b"]
        assert await body.locator("table td").all_text_contents() == ["1", "2"]
        assert await body.locator("pre > code").text_content() == "print('<b>hi</b>')\n"
        assert await body.locator("pre b").count() == 0  # code is text
        await page.screenshot(path=shot(artifacts_dir, "09-markdown"))
        await page.reload()
        await page.wait_for_selector("#messages article.assistant[data-status=complete]")


async def test_header_follows_the_generated_title(
    page: Any, user: User, artifacts_dir: Path
) -> None:
    thread_id = await echo_thread(user, model="echo")
    await signed_in(page, user, f"thread/{thread_id}")
    assert await page.text_content("#thread-title") == "New Chat"
    await send(page, "**Glacier** facts about `ice`")
    await page.wait_for_selector("#messages article.assistant[data-status=complete]")
    # No reload: the open thread's header and the sidebar pick the title up by themselves;
    # the title made from the first message has no Markdown marks.
    await page.locator("#thread-title", has_text="Glacier facts about ice").wait_for()
    assert await page.text_content("#thread-title") == "Glacier facts about ice"
    await page.locator("#thread-groups li", has_text="Glacier facts about ice").wait_for()
    assert (await api_thread(user, thread_id))["title"] == "Glacier facts about ice"
    await page.screenshot(path=shot(artifacts_dir, "10-generated-title"))


async def test_regenerate_edit_and_switch_branches(
    page: Any, user: User, artifacts_dir: Path
) -> None:
    thread_id = await echo_thread(user, model="echo", title="Branches")
    await signed_in(page, user, f"thread/{thread_id}")
    answer = await send(page, "first question")
    question = page.locator("#messages article.user")
    pos = answer.locator(".branch .pos")
    await page.wait_for_selector("#messages article.assistant[data-status=complete] .regenerate")
    first_answer = await answer.get_attribute("data-message-id")
    assert await pos.count() == 0  # one version: no switch shown

    # Regenerate: a second answer to the same question, shown as version 2 of 2.
    await answer.locator(".regenerate").click()
    await pos.filter(has_text="2/2").wait_for()
    second_answer = await answer.get_attribute("data-message-id")
    assert second_answer and second_answer != first_answer
    assert await answer.locator(".body").text_content() == "Echo: first question"
    assert await page.locator("#messages article").count() == 2
    assert (await api_thread(user, thread_id))["active_leaf_id"] == second_answer
    await page.screenshot(path=shot(artifacts_dir, "11-regenerated"))

    # "Previous version" goes back to the first answer, on the page and on the server.
    await answer.locator(".branch .prev").click()
    await pos.filter(has_text="1/2").wait_for()
    assert await answer.get_attribute("data-message-id") == first_answer
    assert (await api_thread(user, thread_id))["active_leaf_id"] == first_answer

    # Edit the question: a second question with its own answer.
    await question.locator(".edit").click()
    await question.locator(".edit-box").fill("second question")
    await question.locator(".edit-save").click()
    await answer.locator(".body", has_text="Echo: second question").wait_for()
    await question.locator(".branch .pos", has_text="2/2").wait_for()
    assert await question.locator(".body").text_content() == "second question"
    assert await pos.count() == 0  # the new question has one answer
    path = (await api_thread(user, thread_id))["messages"]
    assert [(m["role"], m["content"]) for m in path] == [
        ("user", "second question"),
        ("assistant", "Echo: second question"),
    ]
    assert len(await every_message(user, thread_id)) == 5  # nothing overwritten
    await page.screenshot(path=shot(artifacts_dir, "12-edited"))

    # "Previous version" on the question: the first one again, with its newest answer below it.
    await question.locator(".branch .prev").click()
    await question.locator(".body", has_text="first question").wait_for()
    await question.locator(".branch .pos", has_text="1/2").wait_for()
    assert await pos.text_content() == "2/2"
    assert await answer.get_attribute("data-message-id") == second_answer
    assert (await api_thread(user, thread_id))["active_leaf_id"] == second_answer

    # A reload shows the same branch.
    await page.reload()
    await question.locator(".body", has_text="first question").wait_for()
    assert await answer.get_attribute("data-message-id") == second_answer
    await page.screenshot(path=shot(artifacts_dir, "13-switched-back"))


async def test_regenerated_script_is_still_text(page: Any, user: User) -> None:
    thread_id = await echo_thread(user, model="echo")
    await signed_in(page, user, f"thread/{thread_id}")
    attack = '<script>window.__pwned=1</script> <img src=x onerror="window.__pwned=2">'
    answer = await send(page, attack)
    await page.wait_for_selector("#messages article.assistant[data-status=complete] .regenerate")
    await answer.locator(".regenerate").click()
    await answer.locator(".branch .pos", has_text="2/2").wait_for()
    assert "<script>" in (await answer.locator(".body").text_content() or "")
    assert await page.locator("#messages script, #messages img").count() == 0
    assert await page.evaluate("typeof window.__pwned") == "undefined"


async def test_fork_opens_a_new_thread_up_to_the_message(page: Any, user: User) -> None:
    thread_id = await echo_thread(user, model="echo", title="Source")
    await signed_in(page, user, f"thread/{thread_id}")
    await send(page, "one")
    await page.wait_for_selector("#messages article.assistant[data-status=complete] .fork")
    await send(page, "two")
    await page.locator("#messages article.assistant .body", has_text="Echo: two").wait_for()
    first_answer = page.locator("#messages article.assistant").first
    await first_answer.locator(".fork").click()
    await page.wait_for_url(lambda url: "#/thread/" in url and thread_id not in url)
    forked_id = page.url.rsplit("/", 1)[-1]
    # The forked thread's view replaces the source's: only the path up to the message.
    await async_api.expect(page.locator("#messages article")).to_have_count(2)
    assert await page.locator("#messages article .body").all_text_contents() == [
        "one",
        "Echo: one",
    ]
    forked = await api_thread(user, forked_id)
    assert forked["forked_from"]["thread_id"] == thread_id
    assert [m["content"] for m in forked["messages"]] == ["one", "Echo: one"]
    assert len(await stored_messages(user, thread_id)) == 4  # the source is untouched


async def test_a_shared_link_renders_read_only_and_escaped(
    page: Any, user: User, artifacts_dir: Path
) -> None:
    """Issue 18: `/shared/{id}` without signing in shows the snapshot, escaped as chats are."""
    thread_id = await echo_thread(user, model="echo", title="<i>Shared</i> page")
    attack = '<script>window.__pwned=1</script> <img src=x onerror="window.__pwned=2"> **bold**'
    async with user.client.stream(
        "POST", f"/api/threads/{thread_id}/chat", json={"content": attack}, headers=user.headers
    ) as response:
        await response.aread()
    r = await user.post(f"/api/threads/{thread_id}/share")
    assert r.status_code == 201, r.text
    await page.goto(f"/shared/{r.json()['share_id']}")
    await page.wait_for_selector("body[data-loaded=true]")
    assert await page.locator("#shared-title").text_content() == "<i>Shared</i> page"
    question, answer = page.locator("article.user .body"), page.locator("article.assistant .body")
    assert await question.text_content() == attack
    assert "<script>window.__pwned=1</script>" in (await answer.text_content() or "")
    assert await answer.locator("strong", has_text="bold").count() == 1
    assert await page.locator("#shared script, #shared img, #shared i").count() == 0
    assert await page.locator("textarea, button, form").count() == 0  # read-only
    assert await page.evaluate("typeof window.__pwned") == "undefined"
    await page.screenshot(path=shot(artifacts_dir, "20-shared-link"))
    await page.goto("/shared/" + "A" * 32)
    await page.wait_for_selector("#shared-error:not(:empty)")


async def test_search_box_opens_the_thread_at_a_message_of_another_branch(
    page: Any, user: User, artifacts_dir: Path
) -> None:
    thread_id = await echo_thread(user, model="echo", title="Minerals")

    async def post(content: str, role: str, parent_id: str | None = None) -> str:
        body = {"role": role, "content": content, "parent_id": parent_id}
        r = await user.post(f"/api/threads/{thread_id}/messages", json=body)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    root = await post("Which mineral should I look for?", "user")
    old = await post('<img src=x onerror="window.__pwned=1"> Try topazes first.', "assistant", root)
    await post("Try beryl first.", "assistant", root)
    await signed_in(page, user)

    await page.fill("#search-box", "topaz")
    await page.press("#search-box", "Enter")
    hit = page.locator("#search-results li.search-hit")
    await hit.first.wait_for()
    assert await hit.count() == 1
    assert await hit.locator("mark").all_text_contents() == ["topazes"]
    assert await page.locator("#search-results img, #search-results script").count() == 0
    await page.screenshot(path=shot(artifacts_dir, "20-search-results"))

    await hit.locator("a").click()
    found = page.locator(f'#messages article.msg.found[data-message-id="{old}"]')
    await found.wait_for()
    assert "Try topazes first." in (await found.text_content() or "")
    assert (await api_thread(user, thread_id))["active_leaf_id"] == old
    assert await page.evaluate("typeof window.__pwned") == "undefined"
    await page.screenshot(path=shot(artifacts_dir, "21-search-opened-at-message"))


async def test_a_view_still_loading_never_replaces_the_newer_one(page: Any, user: User) -> None:
    """The new-thread view waits for the model list; searching meanwhile shows the results,
    and they stay once the list has arrived and been shown (held back in the browser)."""
    thread_id = await echo_thread(user, model="echo", title="Gems")
    r = await user.post(
        f"/api/threads/{thread_id}/messages", json={"role": "user", "content": "opal or jade"}
    )
    assert r.status_code == 201, r.text
    models_asked = asyncio.Event()
    release = asyncio.Event()

    async def slow_models(route: Any) -> None:
        models_asked.set()
        await release.wait()
        await route.continue_()

    await page.route("**/api/models", slow_models)
    await signed_in(page, user)  # `#/`: the new-thread view, loading the model list
    await asyncio.wait_for(models_asked.wait(), 20)
    await page.fill("#search-box", "opal")
    await page.press("#search-box", "Enter")
    hit = page.locator("#search-results li.search-hit")
    await hit.first.wait_for()
    # wait for the list (an ok answer: the view would ask again after a refusal), then for
    # the page to have handled it (a round trip begun afterwards ends after that)
    async with page.expect_response(lambda r: "/api/models" in r.url and r.ok) as listed:
        release.set()
    await (await listed.value).finished()
    await page.evaluate("() => fetch('/').then((r) => r.text())")
    assert await hit.count() == 1 and await hit.first.is_visible()
    assert await page.locator("#new-thread").count() == 0

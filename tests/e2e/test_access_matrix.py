"""Every authenticated route of the gateway's OpenAPI document, times every way in without a valid
token (none, malformed, expired, signed with another key, `alg: none`, wrong issuer) → 401
that says nothing more; and every route that names a resource, called by another user → the
same 404 as a resource that does not exist, revealing nothing and changing nothing.

The routes come from the running gateway's /openapi.json, so a new route is covered (or makes
this test fail until it says how to reach it) without anyone remembering to add it.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import httpx
import jwt

from gateway.config import DEV_JWT_SECRET
from tests.conftest import User
from tests.support.sse_client import read_all

PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("POST", "/api/auth/register"),
    ("POST", "/api/auth/login"),
    ("GET", "/api/shared/{share_id}"),  # a share link: the unguessable id is the permission
}
# Routes whose path names no per-user resource id: their "other user" case is the list check.
NO_RESOURCE_ID = {"provider"}
# Admin routes name another user on purpose: a non-admin gets the same 403 for any id.
ADMIN_ONLY = "/api/admin/"


def b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims(sub: str, **over: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": sub, "iss": "switchboard", "iat": now, "exp": now + 3600, **over}


def bad_tokens(sub: str) -> dict[str, dict[str, str]]:
    """Header sets that must all be refused, each for a real user id."""
    now = int(time.time())
    expired = jwt.encode(claims(sub, iat=now - 7200, exp=now - 3600), DEV_JWT_SECRET, "HS256")
    other_key = jwt.encode(claims(sub), "another-key-" + "x" * 40, "HS256")
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims(sub))}."
    wrong_issuer = jwt.encode(claims(sub, iss="someone-else"), DEV_JWT_SECRET, "HS256")
    no_exp = jwt.encode({"sub": sub, "iss": "switchboard", "iat": now}, DEV_JWT_SECRET, "HS256")
    return {
        "no token": {},
        "malformed": {"Authorization": "Bearer not.a.jwt"},
        "garbage": {"Authorization": "Bearer %%%"},
        "wrong scheme": {"Authorization": f"Basic {base64.b64encode(b'a:b').decode()}"},
        "expired": {"Authorization": f"Bearer {expired}"},
        "other key": {"Authorization": f"Bearer {other_key}"},
        "alg none": {"Authorization": f"Bearer {unsigned}"},
        "wrong issuer": {"Authorization": f"Bearer {wrong_issuer}"},
        "no exp": {"Authorization": f"Bearer {no_exp}"},
    }


async def operations(client: httpx.AsyncClient) -> list[tuple[str, str, dict[str, Any]]]:
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    ops = [
        (method.upper(), path, op)
        for path, item in r.json()["paths"].items()
        for method, op in item.items()
    ]
    public = {(m, p) for m, p, op in ops if not op.get("security")}
    assert public == PUBLIC, "a route without authentication: add it to PUBLIC if intended"
    return [(m, p, op) for m, p, op in ops if op.get("security")]


def error_message(body: dict[str, Any]) -> str | None:
    """The message of an error body and nothing else: `{"detail": str}`, or OpenAI's shape
    `{"error": {"message", "type", "param", "code"}}` on the /v1 routes."""
    if set(body) == {"detail"} and isinstance(body["detail"], str):
        return body["detail"]
    error = body.get("error")
    if (
        set(body) == {"error"}
        and isinstance(error, dict)
        and set(error) <= {"message", "type", "param", "code"}
    ):
        return error.get("message")
    return None


def fill(path: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    return path


async def test_every_authenticated_route_refuses_every_bad_token(
    client: httpx.AsyncClient, user: User
) -> None:
    ops = await operations(client)
    assert len(ops) >= 30
    ids = {
        "thread_id": str(uuid.uuid4()),
        "project_id": str(uuid.uuid4()),
        "message_id": str(uuid.uuid4()),
        "document_id": str(uuid.uuid4()),
        "provider": "echo",
    }
    failures = []
    for name, headers in bad_tokens(user.id).items():
        for method, path, _ in ops:
            r = await client.request(method, fill(path, ids), headers=headers, json={})
            body = r.text
            ok = (
                r.status_code == 401
                and r.headers.get("www-authenticate") == "Bearer"
                and isinstance(error_message(r.json()), str)
                and user.id not in body
                and user.email not in body
            )
            if not ok:
                failures.append((name, method, path, r.status_code, body[:200]))
    assert failures == []


async def owned_resources(user: User) -> dict[str, Any]:
    """One of everything, with recognisable names, owned by `user`."""
    marker = f"secret-{uuid.uuid4().hex[:10]}"
    project = (await user.post("/api/projects", json={"name": f"{marker}-project"})).json()
    thread = await user.post(
        "/api/threads",
        json={"title": f"{marker}-thread", "project_id": project["id"], "model_provider": "echo"},
    )
    assert thread.status_code == 201, thread.text
    thread_id = thread.json()["id"]
    async with user.client.stream(
        "POST",
        f"/api/threads/{thread_id}/chat",
        json={"content": f"{marker}-question"},
        headers=user.headers,
    ) as response:
        assert response.status_code == 200
        evs = await read_all(response)
    start = evs[0].data
    doc = await user.post(
        f"/api/threads/{thread_id}/documents",
        json={"filename": f"{marker}.txt", "content": f"{marker}-document"},
    )
    assert doc.status_code == 201, doc.text
    project_doc = await user.post(
        f"/api/projects/{project['id']}/documents",
        json={"filename": f"{marker}-p.txt", "content": f"{marker}-project-document"},
    )
    assert project_doc.status_code == 201
    configured = await user.put(
        "/api/providers/openai/config",
        json={"api_key": f"sk-{marker}", "base_url": f"https://{marker}.example.com/v1"},
    )
    assert configured.status_code == 200, configured.text
    share = await user.post(f"/api/threads/{thread_id}/share")
    assert share.status_code == 201, share.text
    node = {"author": {"role": "user"}, "content": {"content_type": "text", "parts": [marker]}}
    mapping = {"n": {"id": "n", "parent": None, "children": [], "message": node}}
    conversation = {"id": f"{marker}-conversation", "title": marker, "mapping": mapping}
    imported = await user.post("/api/imports", json=[conversation])
    assert imported.status_code == 201, imported.text
    key = await user.post("/api/keys", json={"name": f"{marker}-key"})
    assert key.status_code == 201, key.text
    return {
        "marker": marker,
        "ids": {
            "thread_id": thread_id,
            "project_id": project["id"],
            "document_id": doc.json()["id"],
            "user_message_id": start["user_message_id"],
            "assistant_message_id": start["message_id"],
            "share_id": share.json()["share_id"],
            "import_id": imported.json()["id"],
            "key_id": key.json()["id"],
            "user_id": user.id,
        },
        "key": key.json()["key"],
    }


# Valid bodies, so nothing but ownership can decide the answer.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/projects/{project_id}/threads"): {"title": "intruder"},
    ("POST", "/api/threads/{thread_id}/messages"): {"role": "user", "content": "intruder"},
    ("POST", "/api/projects/{project_id}/documents"): {"filename": "x.txt", "content": "x"},
    ("POST", "/api/threads/{thread_id}/documents"): {"filename": "x.txt", "content": "x"},
    ("POST", "/api/threads/{thread_id}/chat"): {"content": "intruder"},
    ("PATCH", "/api/threads/{thread_id}"): {"title": "intruder"},
    ("PATCH", "/api/projects/{project_id}"): {"name": "intruder"},
    ("POST", "/api/threads/{thread_id}/messages/{message_id}/edit"): {"content": "intruder"},
    # The owner's own message in the body: only the thread's owner decides.
    ("PUT", "/api/threads/{thread_id}/active-leaf"): {"message_id": "{assistant_message_id}"},
    ("POST", "/api/threads/{thread_id}/fork"): {"message_id": "{assistant_message_id}"},
}


async def test_another_users_resources_are_not_found_and_untouched(
    client: httpx.AsyncClient, user: User, other_user: User
) -> None:
    owner, intruder = user, other_user
    owned = await owned_resources(owner)
    marker, ids = owned["marker"], owned["ids"]
    secrets = [marker, owner.id, owner.email, owned["key"], *ids.values()]

    def values(path: str, real: bool) -> dict[str, str]:
        message = ids["user_message_id"] if path.startswith("/api/messages") else None
        chosen = {
            "thread_id": ids["thread_id"],
            "project_id": ids["project_id"],
            "document_id": ids["document_id"],
            "message_id": message or ids["assistant_message_id"],
            "share_id": ids["share_id"],
            "import_id": ids["import_id"],
            "key_id": ids["key_id"],
            "user_id": ids["user_id"],
        }
        if real:
            return chosen
        return {k: uuid.uuid4().hex if k == "share_id" else str(uuid.uuid4()) for k in chosen}

    failures = []
    checked = 0
    for method, path, _ in await operations(client):
        params = {p.strip("{}") for p in path.split("/") if p.startswith("{")}
        body = {
            k: v.format(**ids) if isinstance(v, str) else v
            for k, v in BODIES.get((method, path), {}).items()
        }
        if not params or params & NO_RESOURCE_ID:
            if method == "GET":  # lists and settings: none of the owner's things in them
                # search for the owner's own words: none of them may come back
                query = {"q": marker} if path == "/api/search" else None
                r = await intruder.get(path, params=query)
                leaked = [s for s in secrets if s in r.text]
                expected = 403 if path.startswith(ADMIN_ONLY) else 200
                if r.status_code != expected or leaked:
                    failures.append((method, path, r.status_code, leaked))
            continue
        checked += 1
        theirs = await intruder.client.request(
            method, fill(path, values(path, True)), headers=intruder.headers, json=body
        )
        missing = await intruder.client.request(
            method, fill(path, values(path, False)), headers=intruder.headers, json=body
        )
        leaked = [s for s in secrets if s in theirs.text]
        expected = 403 if path.startswith(ADMIN_ONLY) else 404
        if theirs.status_code != expected or leaked or theirs.json() != missing.json():
            failures.append((method, path, theirs.status_code, theirs.text[:200], missing.text))
    if any(path == "/v1/chat/completions" for _, path, _ in await operations(client)):
        # The OpenAI-compatible route names its thread in a header: the same rule applies.
        r = await intruder.post(
            "/v1/chat/completions",
            headers={"X-Switchboard-Thread": ids["thread_id"]},
            json={"model": "echo/echo", "messages": [{"role": "user", "content": "intruder"}]},
        )
        leaked = [s for s in secrets if s in r.text]
        if r.status_code != 404 or leaked:
            failures.append(("POST", "/v1/chat/completions", r.status_code, r.text[:200]))
    assert failures == []
    assert checked >= 20

    # Nothing the intruder tried changed anything of the owner's.
    thread = (await owner.get(f"/api/threads/{ids['thread_id']}")).json()
    assert thread["title"] == f"{marker}-thread"
    assert thread["project_id"] == ids["project_id"]
    msgs = (await owner.get(f"/api/threads/{ids['thread_id']}/messages")).json()["messages"]
    assert [m["id"] for m in msgs] == [ids["user_message_id"], ids["assistant_message_id"]]
    assert msgs[1]["status"] == "complete"
    project = (await owner.get(f"/api/projects/{ids['project_id']}")).json()
    assert project["name"] == f"{marker}-project"
    docs = (await owner.get(f"/api/threads/{ids['thread_id']}/documents")).json()["documents"]
    assert [d["id"] for d in docs] == [ids["document_id"]]
    project_docs = await owner.get(f"/api/projects/{ids['project_id']}/documents")
    assert len(project_docs.json()["documents"]) == 1
    project_threads = await owner.get(f"/api/projects/{ids['project_id']}/threads")
    assert [t["id"] for t in project_threads.json()["threads"]] == [ids["thread_id"]]

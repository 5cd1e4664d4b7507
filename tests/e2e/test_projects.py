"""Projects through HTTP: create, list by activity, get, rename/describe, delete (threads
stay, project-less; project documents go), threads inside a project, ownership."""

from __future__ import annotations

import uuid

from tests.conftest import User


async def new_project(user: User, name: str = "Alpha", **extra: object) -> dict:
    r = await user.post("/api/projects", json={"name": name, **extra})
    assert r.status_code == 201, r.text
    return r.json()


async def test_create_get_and_list(user: User) -> None:
    project = await new_project(user, "Research", description="papers")
    assert project["name"] == "Research" and project["description"] == "papers"
    assert project["thread_count"] == 0
    assert set(project) == {
        "id",
        "name",
        "description",
        "instructions",
        "created_at",
        "updated_at",
        "thread_count",
    }
    assert project["instructions"] is None

    r = await user.get(f"/api/projects/{project['id']}")
    assert r.status_code == 200 and r.json() == project
    r = await user.get("/api/projects")
    assert r.status_code == 200 and r.json() == {"projects": [project]}


async def test_list_is_newest_activity_first(user: User) -> None:
    first = await new_project(user, "first")
    second = await new_project(user, "second")
    ids = [p["id"] for p in (await user.get("/api/projects")).json()["projects"]]
    assert ids == [second["id"], first["id"]]

    r = await user.post(f"/api/projects/{first['id']}/threads", json={"title": "t"})
    assert r.status_code == 201
    ids = [p["id"] for p in (await user.get("/api/projects")).json()["projects"]]
    assert ids == [first["id"], second["id"]]

    # a message in a thread of `second` makes it the most recently active again
    thread = (await user.post(f"/api/projects/{second['id']}/threads", json={})).json()
    first_thread = (await user.post(f"/api/projects/{first['id']}/threads", json={})).json()
    assert first_thread["project_id"] == first["id"]
    r = await user.post(
        f"/api/threads/{thread['id']}/messages", json={"role": "user", "content": "hi"}
    )
    assert r.status_code == 201
    ids = [p["id"] for p in (await user.get("/api/projects")).json()["projects"]]
    assert ids == [second["id"], first["id"]]


async def test_patch_renames_describes_and_clears_description(user: User) -> None:
    project = await new_project(user, "Old", description="keep me")
    r = await user.patch(f"/api/projects/{project['id']}", json={"name": "New"})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "New" and r.json()["description"] == "keep me"
    assert r.json()["updated_at"] > project["updated_at"]

    r = await user.patch(f"/api/projects/{project['id']}", json={"description": "changed"})
    assert r.json()["name"] == "New" and r.json()["description"] == "changed"

    r = await user.patch(f"/api/projects/{project['id']}", json={"description": None})
    assert r.status_code == 200 and r.json()["description"] is None

    r = await user.patch(f"/api/projects/{project['id']}", json={})
    assert r.status_code == 200 and r.json()["name"] == "New"


async def test_rename_shows_in_threads_project_name(user: User) -> None:
    project = await new_project(user, "Before")
    thread = (await user.post(f"/api/projects/{project['id']}/threads", json={})).json()
    assert thread["project_name"] == "Before"
    await user.patch(f"/api/projects/{project['id']}", json={"name": "After"})
    r = await user.get(f"/api/threads/{thread['id']}")
    assert r.json()["project_name"] == "After"
    listed = (await user.get("/api/threads")).json()["threads"]
    assert listed[0]["project_name"] == "After"


async def test_project_threads_create_list_and_count(user: User) -> None:
    project = await new_project(user)
    r = await user.post(
        f"/api/projects/{project['id']}/threads",
        json={"title": "Inside", "model_provider": "echo", "project_id": str(uuid.uuid4())},
    )
    assert r.status_code == 201, r.text
    inside = r.json()
    assert inside["project_id"] == project["id"] and inside["project_name"] == project["name"]
    outside = (await user.post("/api/threads", json={"title": "Outside"})).json()
    via_body = (await user.post("/api/threads", json={"project_id": project["id"]})).json()
    assert via_body["project_id"] == project["id"]

    r = await user.get(f"/api/projects/{project['id']}/threads")
    assert r.status_code == 200
    page = r.json()
    assert page["total"] == 2 and page["page"] == 1 and page["has_more"] is False
    assert [t["id"] for t in page["threads"]] == [via_body["id"], inside["id"]]
    assert outside["id"] not in {t["id"] for t in page["threads"]}
    assert (await user.get(f"/api/projects/{project['id']}")).json()["thread_count"] == 2


async def test_delete_keeps_threads_project_less_and_drops_project_documents(user: User) -> None:
    project = await new_project(user)
    thread = (await user.post(f"/api/projects/{project['id']}/threads", json={})).json()
    project_doc = await user.post(
        f"/api/projects/{project['id']}/documents", json={"filename": "p.txt", "content": "p"}
    )
    thread_doc = await user.post(
        f"/api/threads/{thread['id']}/documents", json={"filename": "t.txt", "content": "t"}
    )
    assert project_doc.status_code == thread_doc.status_code == 201

    r = await user.delete(f"/api/projects/{project['id']}")
    assert r.status_code == 200 and r.json() == {"message": "Project deleted"}

    assert (await user.get(f"/api/projects/{project['id']}")).status_code == 404
    assert (await user.get("/api/projects")).json()["projects"] == []
    r = await user.get(f"/api/threads/{thread['id']}")
    assert r.status_code == 200
    assert r.json()["project_id"] is None and r.json()["project_name"] is None
    listed = (await user.get("/api/threads")).json()
    assert listed["total"] == 1 and listed["threads"][0]["project_id"] is None
    assert (await user.get(f"/api/documents/{project_doc.json()['id']}")).status_code == 404
    assert (await user.get(f"/api/documents/{thread_doc.json()['id']}")).status_code == 200
    assert (await user.delete(f"/api/projects/{project['id']}")).status_code == 404
    assert (await user.get(f"/api/projects/{project['id']}/threads")).status_code == 404


async def test_other_users_project_is_not_found(user: User, other_user: User) -> None:
    project = await new_project(user, "mine", description="secret")
    pid = project["id"]
    for r in (
        await other_user.get(f"/api/projects/{pid}"),
        await other_user.patch(f"/api/projects/{pid}", json={"name": "stolen"}),
        await other_user.delete(f"/api/projects/{pid}"),
        await other_user.post(f"/api/projects/{pid}/threads", json={}),
        await other_user.post("/api/threads", json={"project_id": pid}),
        await other_user.get(f"/api/projects/{pid}/threads"),
        await other_user.get(f"/api/threads?project_id={pid}"),
        await other_user.get(f"/api/projects/{pid}/documents"),
        await other_user.post(
            f"/api/projects/{pid}/documents", json={"filename": "x", "content": "x"}
        ),
    ):
        assert r.status_code == 404, (r.request.method, r.request.url, r.text)
        assert r.json() == {"detail": "Project not found"}
        assert "secret" not in r.text
    missing = await user.get(f"/api/projects/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.json() == {"detail": "Project not found"}
    assert (await other_user.get("/api/projects")).json() == {"projects": []}
    after = (await user.get(f"/api/projects/{pid}")).json()
    assert after == project  # nothing changed, nothing counted


async def test_name_validation(user: User) -> None:
    assert (await user.post("/api/projects", json={})).status_code == 422
    assert (await user.post("/api/projects", json={"name": ""})).status_code == 422
    assert (await user.post("/api/projects", json={"name": "x" * 256})).status_code == 422
    assert (await user.post("/api/projects", json={"name": 12})).status_code == 422
    r = await user.post("/api/projects", json={"name": "   "})
    assert r.status_code == 400 and r.json() == {"detail": "Project name must not be empty"}
    assert (await user.post("/api/projects", json={"name": "x" * 255})).status_code == 201
    project = await new_project(user)
    r = await user.patch(f"/api/projects/{project['id']}", json={"name": None})
    assert r.status_code == 200 and r.json()["name"] == project["name"]
    r = await user.patch(f"/api/projects/{project['id']}", json={"name": ""})
    assert r.status_code == 422


async def test_idempotent_create_patch_and_delete(user: User) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    a = await user.post("/api/projects", json={"name": "once"}, headers=key)
    b = await user.post("/api/projects", json={"name": "once"}, headers=key)
    assert a.status_code == b.status_code == 201 and a.json() == b.json()
    assert len((await user.get("/api/projects")).json()["projects"]) == 1
    pid = a.json()["id"]

    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await user.patch(f"/api/projects/{pid}", json={"name": "v1"}, headers=key)
    await user.patch(f"/api/projects/{pid}", json={"name": "v2"})
    replay = await user.patch(f"/api/projects/{pid}", json={"name": "v1"}, headers=key)
    assert replay.json() == first.json()
    assert (await user.get(f"/api/projects/{pid}")).json()["name"] == "v2"  # not applied again

    key = {"Idempotency-Key": str(uuid.uuid4())}
    assert (await user.delete(f"/api/projects/{pid}", headers=key)).status_code == 200
    assert (await user.delete(f"/api/projects/{pid}", headers=key)).status_code == 200
    assert (await user.delete(f"/api/projects/{pid}")).status_code == 404

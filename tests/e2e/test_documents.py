"""Documents through HTTP: JSON and multipart upload into a project or a thread, list per
scope, get with content, delete; the size limit (413) and text-only uploads (415)."""

from __future__ import annotations

import uuid

from tests.conftest import User

LIMIT = 1024 * 1024  # the default max_document_bytes of the gateway and the threads service


async def scopes(user: User) -> tuple[str, str]:
    project = (await user.post("/api/projects", json={"name": "docs"})).json()
    thread = (await user.post("/api/threads", json={})).json()
    return f"/api/projects/{project['id']}", f"/api/threads/{thread['id']}"


async def test_json_document_in_each_scope(user: User) -> None:
    project_url, thread_url = await scopes(user)
    for url, scope in ((project_url, "project_id"), (thread_url, "thread_id")):
        r = await user.post(
            f"{url}/documents",
            json={"filename": "notes.md", "content": "# Café ☕", "content_type": "text/markdown"},
        )
        assert r.status_code == 201, r.text
        doc = r.json()
        assert doc["filename"] == "notes.md" and doc["content_type"] == "text/markdown"
        assert doc["size"] == len("# Café ☕".encode())
        assert doc[scope] == url.rsplit("/", 1)[1]
        other = "thread_id" if scope == "project_id" else "project_id"
        assert doc[other] is None
        assert "content" not in doc

        listed = (await user.get(f"{url}/documents")).json()
        assert listed == {"documents": [doc]}
        full = (await user.get(f"/api/documents/{doc['id']}")).json()
        assert full == {**doc, "content": "# Café ☕"}

        r = await user.delete(f"/api/documents/{doc['id']}")
        assert r.status_code == 200 and r.json() == {"message": "Document deleted"}
        assert (await user.get(f"/api/documents/{doc['id']}")).status_code == 404
        assert (await user.get(f"{url}/documents")).json() == {"documents": []}
        assert (await user.delete(f"/api/documents/{doc['id']}")).status_code == 404


async def test_multipart_upload(user: User) -> None:
    project_url, thread_url = await scopes(user)
    r = await user.post(
        f"{thread_url}/documents",
        files={"file": ("dir/readme.txt", "línea uno\nline two\n".encode(), "text/plain")},
    )
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["filename"] == "readme.txt" and doc["content_type"] == "text/plain"
    content = (await user.get(f"/api/documents/{doc['id']}")).json()["content"]
    assert content == "línea uno\nline two\n"

    r = await user.post(
        f"{project_url}/documents",
        files={"file": ("data.bin", b'{"a": 1}', "application/octet-stream")},
        data={"filename": "data.json", "content_type": "application/json"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["filename"] == "data.json" and r.json()["content_type"] == "application/json"

    r = await user.post(
        f"{project_url}/documents", files={"file": ("bom.txt", b"\xef\xbb\xbfhi", "text/plain")}
    )
    assert r.status_code == 201
    assert (await user.get(f"/api/documents/{r.json()['id']}")).json()["content"] == "hi"


async def test_binary_and_non_utf8_uploads_are_415(user: User) -> None:
    _, thread_url = await scopes(user)
    for name, data in (
        ("latin1.txt", "café".encode("latin-1")),
        ("image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
        ("nul.txt", b"text\x00with nul"),
    ):
        r = await user.post(f"{thread_url}/documents", files={"file": (name, data)})
        assert r.status_code == 415, (name, r.text)
        assert "text" in r.json()["detail"]
    r = await user.post(
        f"{thread_url}/documents",
        content=b"plain body",
        headers={"Content-Type": "text/plain"},
    )
    assert r.status_code == 415
    assert (await user.get(f"{thread_url}/documents")).json() == {"documents": []}


async def test_size_limit_is_413(user: User) -> None:
    project_url, thread_url = await scopes(user)
    r = await user.post(
        f"{project_url}/documents", json={"filename": "big.txt", "content": "x" * (LIMIT + 1)}
    )
    assert r.status_code == 413, r.text
    assert "limit" in r.json()["detail"]
    r = await user.post(
        f"{thread_url}/documents", files={"file": ("big.txt", b"y" * (LIMIT + 1), "text/plain")}
    )
    assert r.status_code == 413
    r = await user.post(
        f"{thread_url}/documents", json={"filename": "wide.txt", "content": "é" * (LIMIT // 2 + 1)}
    )
    assert r.status_code == 413  # the limit counts UTF-8 bytes, not characters
    r = await user.post(
        f"{thread_url}/documents", json={"filename": "exact.txt", "content": "z" * LIMIT}
    )
    assert r.status_code == 201 and r.json()["size"] == LIMIT
    assert (await user.get(f"{project_url}/documents")).json() == {"documents": []}


async def test_bad_document_input(user: User) -> None:
    _, thread_url = await scopes(user)
    url = f"{thread_url}/documents"
    for body in (
        {"content": "no name"},
        {"filename": "", "content": "x"},
        {"filename": "x" * 256, "content": "x"},
        {"filename": "a.txt"},
        {"filename": "a.txt", "content": 12},
        {"filename": "a.txt", "content": "nul \u0000"},
    ):
        r = await user.post(url, json=body)
        assert r.status_code == 422, (body, r.text)
        assert isinstance(r.json()["detail"], list)
    r = await user.post(url, content=b'{"filename": ', headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    r = await user.post(url, files={"other": ("a.txt", b"x")})
    assert r.status_code == 422
    r = await user.post(url, json={"filename": "a", "content": "x", "content_type": "not a type"})
    assert r.status_code == 400
    assert (await user.get(url)).json() == {"documents": []}


async def test_other_users_documents_are_not_found(user: User, other_user: User) -> None:
    _, thread_url = await scopes(user)
    doc = (
        await user.post(f"{thread_url}/documents", json={"filename": "s", "content": "secret"})
    ).json()
    for r in (
        await other_user.get(f"/api/documents/{doc['id']}"),
        await other_user.delete(f"/api/documents/{doc['id']}"),
    ):
        assert r.status_code == 404 and r.json() == {"detail": "Document not found"}
    r = await other_user.get(f"{thread_url}/documents")
    assert r.status_code == 404 and "secret" not in r.text
    r = await other_user.post(f"{thread_url}/documents", json={"filename": "x", "content": "x"})
    assert r.status_code == 404 and r.json() == {"detail": "Thread not found"}
    assert (await user.get(f"/api/documents/{doc['id']}")).json()["content"] == "secret"
    assert (await user.get(f"/api/documents/{uuid.uuid4()}")).status_code == 404


async def test_idempotent_add(user: User) -> None:
    _, thread_url = await scopes(user)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"filename": "once.txt", "content": "once"}
    a = await user.post(f"{thread_url}/documents", json=body, headers=key)
    b = await user.post(f"{thread_url}/documents", json=body, headers=key)
    assert a.status_code == b.status_code == 201 and a.json() == b.json()
    assert len((await user.get(f"{thread_url}/documents")).json()["documents"]) == 1

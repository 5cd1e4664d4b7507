"""The document aggregate's decisions: scope, names, media types, size limit in UTF-8 bytes."""

from __future__ import annotations

import uuid

import pytest

from contracts.commands import AddDocument
from threads.domain import document
from threads.domain.errors import DomainError

OWNER = uuid.uuid4()


def add(limit: int = 100, **kw: object) -> list:
    fields: dict[str, object] = {
        "document_id": uuid.uuid4(),
        "thread_id": uuid.uuid4(),
        "filename": "a.txt",
        "content": "hello",
        **kw,
    }
    return document.decide_add(None, AddDocument(**fields), user_id=OWNER, max_bytes=limit)  # type: ignore[arg-type]


def refused(**kw: object) -> str:
    with pytest.raises(DomainError) as err:
        add(**kw)  # type: ignore[arg-type]
    return str(err.value.code)


def test_add_counts_utf8_bytes_against_the_limit() -> None:
    [event] = add(content="é" * 50, limit=100)
    assert event.size == 100 and event.content_type == "text/plain"
    assert refused(content="é" * 51, limit=100) == "too_large"


def test_scope_name_and_type_rules() -> None:
    assert refused(project_id=uuid.uuid4()) == "invalid"  # both scopes
    assert refused(thread_id=None) == "invalid"  # neither
    assert refused(filename="   ") == "invalid"
    assert refused(filename="f" * 256) == "invalid"
    assert refused(content_type="not a type") == "invalid"
    assert refused(content="nul\x00") == "invalid"
    [event] = add(filename="  notes.md ", content_type="text/markdown; charset=utf-8")
    assert event.filename == "notes.md" and event.content_type == "text/markdown; charset=utf-8"


def test_delete_only_the_owners_live_document() -> None:
    [added] = add()
    state = document.fold([added])
    with pytest.raises(DomainError):
        document.decide_delete(state, user_id=uuid.uuid4())
    [deleted] = document.decide_delete(state, user_id=OWNER)
    with pytest.raises(DomainError):
        document.decide_delete(document.evolve(state, deleted), user_id=OWNER)

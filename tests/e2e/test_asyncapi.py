"""GET /asyncapi.json on the running gateway: public, the committed document, and every
subject the services subscribe to is there with its message schema."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import httpx

from contracts import subjects
from contracts.asyncapi import read_document


def subscribed_subjects() -> set[str]:
    """Commands and queries (threads service, and the worker's model list), and the relayed
    events the chat worker consumes."""
    return {
        v for v in vars(subjects).values() if isinstance(v, str) and v.startswith(("cmd.", "qry."))
    } | {subjects.ASSISTANT_REQUESTED_FILTER, subjects.CANCEL_FILTER}


def resolve(doc: dict[str, Any], ref: str) -> dict[str, Any]:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[unquote(part)]
    return dict(node)


async def test_the_document_is_served_without_a_token(client: httpx.AsyncClient) -> None:
    r = await client.get("/asyncapi.json")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.content == read_document()
    doc = r.json()
    assert doc["asyncapi"].startswith("3.")

    by_address = {c["address"]: c for c in doc["channels"].values()}
    missing = subscribed_subjects() - by_address.keys()
    assert not missing, f"subjects missing from the document: {sorted(missing)}"
    for subject in subscribed_subjects():
        (message_ref,) = [m["$ref"] for m in by_address[subject]["messages"].values()]
        payload = resolve(doc, resolve(doc, message_ref)["payload"]["$ref"])
        assert payload.get("type") == "object" and payload["properties"], subject
        if subject.startswith(("cmd.", "qry.")):
            assert "meta" in payload["properties"], subject  # the envelope
        else:
            assert {"event_id", "type", "data", "metadata"} <= payload["properties"].keys()

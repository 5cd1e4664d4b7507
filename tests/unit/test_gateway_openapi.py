"""The OpenAPI document says what the gateway enforces: the names the domain accepts are enums
generated from the provider registry, the route-specific errors (a bad cursor's 400, a
non-text document's 415) are documented, and a 405 names every method of the resource."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from contracts.providers import PROVIDER_NAMES, TASKS, THREAD_TYPES
from gateway.main import create_app

UUID = "00000000-0000-0000-0000-000000000000"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app().openapi()


def string_branch(schema: dict[str, Any]) -> dict[str, Any]:
    """The string alternative of an optional field (`anyOf: [string, null]`), or the schema."""
    return next((s for s in schema.get("anyOf", [schema]) if s.get("type") == "string"), {})


def test_names_the_domain_checks_are_enums_from_the_registry(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    thread_in = schemas["ThreadIn"]["properties"]
    assert string_branch(thread_in["model_provider"])["enum"] == list(PROVIDER_NAMES)
    assert string_branch(thread_in["thread_type"])["enum"] == list(THREAD_TYPES)
    route_in = schemas["TaskRouteIn"]["properties"]
    assert route_in["task"]["enum"] == list(TASKS)
    assert route_in["provider"]["enum"] == list(PROVIDER_NAMES)
    for path, method in (
        ("/api/providers/{provider}/config", "put"),
        ("/api/providers/{provider}", "delete"),
    ):
        params = document["paths"][path][method]["parameters"]
        provider = next(p for p in params if p["name"] == "provider")
        assert provider["schema"]["enum"] == list(PROVIDER_NAMES)


def test_a_bad_cursor_and_a_non_text_document_are_documented(document: dict[str, Any]) -> None:
    paths = document["paths"]
    error = {"$ref": "#/components/schemas/ErrorOut"}
    for path in ("/api/threads", "/api/projects/{project_id}/threads"):
        bad = paths[path]["get"]["responses"]["400"]
        assert "cursor" in bad["description"]
        assert bad["content"]["application/json"]["schema"] == error
    for path in ("/api/threads/{thread_id}/documents", "/api/projects/{project_id}/documents"):
        unsupported = paths[path]["post"]["responses"]["415"]
        assert "UTF-8 text" in unsupported["description"]
        assert unsupported["content"]["application/json"]["schema"] == error


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/api/threads", "GET, POST"),
        ("PUT", f"/api/threads/{UUID}", "DELETE, GET, PATCH"),
        ("POST", "/api/task-routes", "GET, PUT"),
        ("PUT", f"/api/projects/{UUID}/threads", "GET, POST"),
        ("GET", "/v1/chat/completions", "POST"),
    ],
)
def test_a_405_names_every_method_of_the_resource(method: str, path: str, allow: str) -> None:
    r = TestClient(create_app()).request(method, path)  # no lifespan, no NATS: none needed
    assert r.status_code == 405
    assert r.headers["allow"] == allow
    if path.startswith("/v1"):
        assert r.json()["error"]["code"] == "method_not_allowed"
    else:
        assert r.json() == {"detail": "Method Not Allowed"}


TREE_ROUTES = [
    ("/api/threads/{thread_id}/messages/{message_id}/regenerate", "post", "200"),
    ("/api/threads/{thread_id}/messages/{message_id}/edit", "post", "200"),
    ("/api/threads/{thread_id}/active-leaf", "put", "200"),
    ("/api/threads/{thread_id}/fork", "post", "201"),
]


@pytest.mark.parametrize(("path", "method", "success"), TREE_ROUTES)
def test_the_tree_routes_document_their_answers(
    document: dict[str, Any], path: str, method: str, success: str
) -> None:
    operation = document["paths"][path][method]
    responses = operation["responses"]
    assert {success, "400", "404", "409", "422"} <= responses.keys()
    assert "message" in responses["404"]["description"]
    if path.endswith(("/regenerate", "/edit")):
        assert "text/event-stream" in responses["200"]["content"]
        assert "streaming" in responses["409"]["description"]
    headers = [p["name"] for p in operation["parameters"] if p["in"] == "header"]
    assert "Idempotency-Key" in headers


def test_the_message_list_path_is_an_enum(document: dict[str, Any]) -> None:
    params = document["paths"]["/api/threads/{thread_id}/messages"]["get"]["parameters"]
    path = next(p for p in params if p["name"] == "path")
    assert path["schema"]["enum"] == ["active", "all"]
    assert path["schema"]["default"] == "active"


def test_messages_and_threads_document_the_tree_fields(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert {"parent_id", "sibling_index", "sibling_count"} <= schemas["MessageView"][
        "properties"
    ].keys()
    assert {"active_leaf_id", "forked_from"} <= schemas["ThreadView"]["properties"].keys()
    assert "parent_id" in schemas["ChatIn"]["properties"]

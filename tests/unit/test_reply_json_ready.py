"""A reply of JSON-ready data is the same JSON as the pydantic-dumped reply it stands for."""

from contracts.replies import JsonReady, Reply


def test_success_json_is_the_dumped_success_reply() -> None:
    data = {"rows": [{"day": "2026-01-01", "requests": 3, "cost_usd": None}], "totals": {}}
    assert Reply.success_json(JsonReady(data)) == Reply.success(data).model_dump(mode="json")

"""The committed AsyncAPI document is what the services' routers produce today, and it names
each handler's contract model rather than "any object"."""

from __future__ import annotations

import json
from typing import Any

from faststream.nats import NatsBroker, TestNatsBroker
from faststream.specification import AsyncAPI
from pydantic import BaseModel

from asyncapi_gen.document import render
from contracts import commands, queries, subjects
from contracts.asyncapi import payload_of, read_document
from contracts.commands import PostChat


def test_the_committed_document_is_up_to_date() -> None:
    assert read_document() == render(), "asyncapi.json is out of date: run `make asyncapi`"


def payload_schema(doc: dict[str, Any], channel: str) -> dict[str, Any]:
    ref = doc["channels"][channel]["messages"]["SubscribeMessage"]["$ref"].rsplit("/", 1)[-1]
    name = doc["components"]["messages"][ref]["payload"]["$ref"].rsplit("/", 1)[-1]
    return dict(doc["components"]["schemas"][name])


def test_every_command_and_query_is_documented_as_its_contract_model() -> None:
    doc = json.loads(read_document())
    models: dict[str, type[BaseModel]] = {
        name: model
        for module in (commands, queries)
        for name, model in vars(module).items()
        if isinstance(model, type) and issubclass(model, BaseModel)
    }
    models["HealthThreads"] = queries.CheckHealth
    documented = set()
    for channel, spec in doc["channels"].items():
        if not spec["address"].startswith(("cmd.", "qry.")):
            continue
        schema = payload_schema(doc, channel)
        model = models[channel]
        assert set(schema["properties"]) == set(model.model_fields), channel
        assert "meta" in schema["properties"], channel
        documented.add(spec["address"])
    every = {
        v for v in vars(subjects).values() if isinstance(v, str) and v.startswith(("cmd.", "qry."))
    }
    assert documented == every


async def test_payload_of_changes_the_document_but_not_what_the_handler_gets() -> None:
    broker = NatsBroker()
    got: list[Any] = []

    @broker.subscriber("test.payload-of", title="PostChat")
    @payload_of(PostChat)
    async def handler(body: dict[str, Any]) -> dict[str, Any]:
        got.append(body)
        return {"ok": True}

    async with TestNatsBroker(broker) as br:
        # Not a valid PostChat: the handler still gets the plain dict and decides itself.
        reply = await br.request({"content": ""}, "test.payload-of")
        assert await reply.decode() == {"ok": True}
    assert got == [{"content": ""}]

    doc = AsyncAPI(broker).to_specification().to_jsonable()
    assert set(payload_schema(doc, "PostChat")["properties"]) == set(PostChat.model_fields)

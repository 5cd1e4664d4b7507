"""The committed AsyncAPI document is what the services' route tables produce today, and it
names each handler's contract model rather than "any object"."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from asyncapi_gen.document import render
from chat_worker.bootstrap import document_routes as worker_routes
from chat_worker.config import Settings as WorkerSettings
from contracts import commands, queries, subjects
from contracts.asyncapi import read_document
from contracts.base import Request
from messaging.routes import Answer
from threads.bootstrap import document_routes as threads_routes
from threads.config import Settings as ThreadsSettings


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


def test_each_request_is_served_once_on_its_own_subject_with_its_reply_type() -> None:
    """The route tables read subject and reply type from the contract classes, so the
    subjects a service serves and documents cannot drift from what its callers send."""
    tables = [
        threads_routes(ThreadsSettings.model_construct()),
        worker_routes(WorkerSettings.model_construct()),
    ]
    answers = [r for table in tables for r in table.of(Answer)]
    subjects_served = [r.subject for r in answers]
    assert len(subjects_served) == len(set(subjects_served))
    requests = {
        model
        for module in (commands, queries)
        for model in vars(module).values()
        if isinstance(model, type) and issubclass(model, Request) and "subject" in vars(model)
    }
    by_subject = {r.subject: r for r in answers}
    for request in requests:
        route = by_subject[request.subject]
        # A narrower view of a served request (GetThreadAlone of GetThread) is the same wire:
        # its fields are the route's, and the route's reply is (a subclass of) its reply.
        assert set(request.model_fields) == set(route.payload.model_fields), request.__name__
        assert route.reply is not None
        assert issubclass(route.reply, request.reply_model()), request.__name__
    assert set(by_subject) == {r.subject for r in requests}

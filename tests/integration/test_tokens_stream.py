"""Provisioning of the TOKENS stream against a real nats-server (its own, with `sync_interval:
always` as deployed): async persistence by default, and a stream whose persistence mode cannot
change in place is kept as it is."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest_asyncio
from nats.js import JetStreamContext
from nats.js.api import PersistMode, StorageType, StreamConfig

from chat_worker.config import Settings
from chat_worker.streams import provision_tokens_stream
from contracts.subjects import TOKENS_STREAM, TOKENS_SUBJECTS
from devstack.nats import start_nats
from tests.support.servers import free_port


@pytest_asyncio.fixture
async def js(tmp_path: Path) -> AsyncIterator[JetStreamContext]:
    server = start_nats(
        tmp_path / "nats", free_port(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    client = await nats.connect(server.url)
    try:
        yield client.jetstream()
    finally:
        await client.close()
        server.stop()


async def test_tokens_are_kept_on_file_with_async_persistence(js: JetStreamContext) -> None:
    await provision_tokens_stream(js, Settings())
    config = (await js.stream_info(TOKENS_STREAM)).config
    assert config.storage == StorageType.FILE
    assert config.persist_mode == PersistMode.ASYNC
    await provision_tokens_stream(js, Settings())  # the next start finds it as configured
    ack = await js.publish("tokens.t.m", b"{}", stream=TOKENS_STREAM)
    assert ack.stream == TOKENS_STREAM


async def test_the_default_mode_can_be_chosen(js: JetStreamContext) -> None:
    await provision_tokens_stream(js, Settings(tokens_persist_mode="default"))
    config = (await js.stream_info(TOKENS_STREAM)).config
    assert config.persist_mode in (None, PersistMode.DEFAULT)


async def test_an_existing_stream_keeps_its_mode_and_takes_the_other_settings(
    js: JetStreamContext,
) -> None:
    await js.add_stream(StreamConfig(name=TOKENS_STREAM, subjects=[TOKENS_SUBJECTS], max_age=60))
    await provision_tokens_stream(js, Settings(tokens_max_age=120))
    config = (await js.stream_info(TOKENS_STREAM)).config
    assert config.persist_mode in (None, PersistMode.DEFAULT)
    assert config.max_age == 120

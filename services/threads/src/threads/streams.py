"""Declares the JetStream stream EVENTS, explicitly and once per start (never through
FastStream's implicit `declare`, which would silently rewrite an existing stream), with the
replicas the settings ask for (3 on a cluster), waiting while a cluster elects its leaders."""

from __future__ import annotations

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from contracts.subjects import EVENTS_STREAM, EVENTS_SUBJECTS
from messaging.stream_setup import while_electing
from threads.config import Settings


def events_stream_config(replicas: int = 1) -> StreamConfig:
    # No age or size limit: with discard=old a limit would silently drop events. Postgres stays
    # the source of truth; this stream is the transport to consumers such as the chat worker.
    return StreamConfig(
        name=EVENTS_STREAM,
        subjects=[EVENTS_SUBJECTS],
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        duplicate_window=120.0,
        num_replicas=replicas,
    )


async def provision_events_stream(js: JetStreamContext, settings: Settings) -> None:
    config = events_stream_config(settings.stream_replicas)

    async def provision() -> None:
        try:
            await js.stream_info(EVENTS_STREAM)
        except NotFoundError:
            await js.add_stream(config)
        else:
            await js.update_stream(config)

    await while_electing("EVENTS stream", provision, settings.stream_setup_timeout)

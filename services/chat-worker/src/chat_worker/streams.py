"""Explicit provisioning at every start: the TOKENS stream and the durable `chat-worker`
consumer on EVENTS.

Neither is left to an implicit declaration by whatever binds first: a durable's config is not
updated by a subscriber once it exists (config drift), and a stream declared on the way would
be rewritten silently. `add_consumer` with the same durable name updates the running consumer
to these settings. EVENTS belongs to the threads service; the worker waits for it rather than
creating it. On a cluster every step waits (bounded) while the cluster elects its leaders.
"""

from __future__ import annotations

import asyncio

import structlog
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    PersistMode,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError

from chat_worker.config import Settings
from contracts.subjects import (
    ASSISTANT_REQUESTED_FILTER,
    CHAT_WORKER_DURABLE,
    EVENTS_STREAM,
    TOKENS_STREAM,
    TOKENS_SUBJECTS,
)
from messaging.stream_setup import while_electing

log = structlog.get_logger(__name__)


def tokens_stream_config(settings: Settings) -> StreamConfig:
    """TOKENS on file with `persist_mode: async` by default: the server acks a token event
    before it is written to disk (ADR-56), which overrides `sync_interval: always` for this
    stream alone. Token events are a delivery channel, the answer itself is stored by the
    threads service; an fsync per event would delay every token on its way to the client and
    compete for the disk with the commits that do need it. What a crash of the NATS server
    (not of a worker) may lose is the last moments of in-flight answers, which restart.
    JetStream refuses async persistence on a replicated stream: there a token event is
    acknowledged once a majority of the replicas have it, and persisted as the server says."""
    memory = settings.tokens_memory_storage
    asynchronous = settings.tokens_persist_mode == "async" and not memory
    return StreamConfig(
        name=TOKENS_STREAM,
        subjects=[TOKENS_SUBJECTS],
        storage=StorageType.MEMORY if memory else StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        max_age=settings.tokens_max_age,
        duplicate_window=min(120.0, settings.tokens_max_age),
        max_consumers=settings.tokens_max_consumers,
        num_replicas=settings.stream_replicas,
        persist_mode=(
            PersistMode.ASYNC if asynchronous and settings.stream_replicas == 1 else None
        ),
    )


def consumer_config(settings: Settings) -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=CHAT_WORKER_DURABLE,
        filter_subject=ASSISTANT_REQUESTED_FILTER,
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=settings.ack_wait,
        max_deliver=settings.max_deliver,
        backoff=list(settings.backoff) or None,
        max_ack_pending=settings.max_ack_pending,
    )


async def provision_tokens_stream(js: JetStreamContext, settings: Settings) -> None:
    async def provision() -> None:
        await _provision_tokens_stream(js, settings)

    await while_electing("TOKENS stream", provision, settings.stream_setup_timeout)


async def _provision_tokens_stream(js: JetStreamContext, settings: Settings) -> None:
    config = tokens_stream_config(settings)
    try:
        info = await js.stream_info(TOKENS_STREAM)
    except NotFoundError:
        await js.add_stream(config)
        return
    # Neither storage nor persist mode can change in place. TOKENS holds only token events (an
    # hour by default): deleting the stream while no answer streams applies the settings.
    if info.config.storage != config.storage:
        log.warning("TOKENS storage differs from the settings; keeping the existing stream")
        config.storage = info.config.storage
    if _persist_mode(info.config) != _persist_mode(config):
        log.warning("TOKENS persist mode differs from the settings; keeping the existing stream")
        config.persist_mode = info.config.persist_mode
    await js.update_stream(config)


def _persist_mode(config: StreamConfig) -> PersistMode:
    return config.persist_mode or PersistMode.DEFAULT


async def provision_consumer(js: JetStreamContext, settings: Settings, wait: float = 60.0) -> None:
    """Create or update the durable; waits (bounded) for the threads service to create EVENTS."""
    loop = asyncio.get_running_loop()
    until = loop.time() + wait
    while True:
        try:
            await while_electing("EVENTS stream", lambda: js.stream_info(EVENTS_STREAM), wait)
            break
        except NotFoundError:
            if loop.time() > until:
                raise
            log.info("waiting for the EVENTS stream")
            await asyncio.sleep(0.5)
    config = consumer_config(settings)
    await while_electing(
        "chat-worker consumer",
        lambda: js.add_consumer(EVENTS_STREAM, config),
        settings.stream_setup_timeout,
    )

"""JetStream's own advisories that a service acts on (published by the NATS server)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class MaxDeliveriesAdvisory(BaseModel):
    """`io.nats.jetstream.advisory.v1.max_deliver` on `subjects.REQUEST_EXHAUSTED_ADVISORY`: the
    message at `stream_seq` of `stream` was delivered `deliveries` times by `consumer` without
    an ack, and will not be delivered again."""

    model_config = ConfigDict(extra="allow")

    stream: str
    consumer: str
    stream_seq: int
    deliveries: int

"""Every subject the chat worker serves or publishes on, declared once: `serve` runs this
table (messaging's RouteServer) and `make asyncapi` documents it."""

from __future__ import annotations

from chat_worker.answering import exhausted
from chat_worker.answering.cancels import InFlight
from chat_worker.answering.consumer import RequestConsumer
from chat_worker.answering.context import PushedContexts
from chat_worker.answering.exhausted import ExhaustedRequests
from chat_worker.config import Settings
from chat_worker.list_models import QUEUE as MODELS_QUEUE
from chat_worker.list_models import ModelListing
from chat_worker.streams import consumer_config
from contracts.advisories import MaxDeliveriesAdvisory
from contracts.events import AssistantMessageRequested, GenerationCancelled
from contracts.queries import ListModels
from contracts.relayed import RelayedEvent
from contracts.subjects import (
    ASSISTANT_REQUESTED_FILTER,
    CANCEL_FILTER,
    CHAT_CONTEXT_PUSH_FILTER,
    EVENTS_STREAM,
    REQUEST_EXHAUSTED_ADVISORY,
    TOKENS_STREAM,
    TOKENS_SUBJECTS,
)
from contracts.tokens import TokenEvent
from contracts.views import ChatContextView
from messaging.routes import Consume, Listen, Publish, RouteTable

SERVICE = "chat-worker"


def build_routes(
    settings: Settings,
    *,
    requests: RequestConsumer,
    pushed: PushedContexts,
    inflight: InFlight,
    exhausted_requests: ExhaustedRequests,
    models: ModelListing,
) -> RouteTable:
    table = RouteTable(SERVICE)
    table.add(
        Listen(
            CHAT_CONTEXT_PUSH_FILTER,
            pushed.hear,
            ChatContextView,
            title="ChatContextPushed",
            description="Core NATS, from the threads service when PostChat commits (before its "
            "events): every worker hears it; the one that gets the request answers its first "
            "delivery from it instead of asking qry.chat.context.",
        )
    )
    table.add(
        Listen(
            CANCEL_FILTER,
            inflight.hear,
            RelayedEvent[GenerationCancelled],
            title="GenerationCancelled",
            description="Core NATS on the relayed events: every worker hears every cancel.",
        )
    )
    table.add(
        Listen(
            REQUEST_EXHAUSTED_ADVISORY,
            exhausted_requests.hear,
            MaxDeliveriesAdvisory,
            title="RequestDeliveriesExhausted",
            description="JetStream's MAX_DELIVERIES advisory for the `chat-worker` consumer: "
            "the answer is recorded as failed (provider_unavailable).",
            queue=exhausted.QUEUE,
        )
    )
    table.answer(
        ListModels,
        models.answer,
        queue=MODELS_QUEUE,
        max_in_flight=settings.models_concurrency,
        description="Request/reply: answered with a `Reply` whose `data` is a ModelsView.",
    )
    table.add(
        Consume(
            ASSISTANT_REQUESTED_FILTER,
            EVENTS_STREAM,
            requests,
            consumer_config(settings),
            RelayedEvent[AssistantMessageRequested],
            title="AssistantMessageRequested",
            description="JetStream: the durable pull consumer `chat-worker` on EVENTS, shared "
            "by every worker; acknowledged once the answer's outcome is recorded.",
            max_in_flight=settings.concurrency,
        )
    )
    table.add(
        Publish(
            TOKENS_SUBJECTS,
            TokenEvent,
            title=TOKENS_STREAM,
            description="An answer as it is generated, on the JetStream stream TOKENS (subject "
            "`tokens.<thread id>.<message id>`); no headers.",
        )
    )
    return table

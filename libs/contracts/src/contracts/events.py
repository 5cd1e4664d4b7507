"""Domain events: facts in the past tense, stored in the event store and relayed to JetStream.

An event's type name is its class name. A change of shape bumps `schema_version`, and the
threads service upcasts older stored shapes on read (see `threads.store.upcasters`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel

from contracts.base import DomainEvent
from contracts.generation import GenerationOptions
from contracts.views import ForkedFrom, MessageRole, SharedMessage

# -- users -----------------------------------------------------------------------------------


class UserRegistered(DomainEvent):
    user_id: UUID
    email: str
    display_name: str | None
    password_hash: str

    private_fields = frozenset({"password_hash"})  # the threads service's alone


UserRole = Literal["admin", "user"]


class UserRoleSet(DomainEvent):
    """The user's role from now on (the first account of an empty deployment: `admin`)."""

    user_id: UUID
    role: UserRole


class UserDisabled(DomainEvent):
    """Every gateway refuses the user's tokens and API keys at once (they listen for it)."""

    user_id: UUID


class UserEnabled(DomainEvent):
    user_id: UUID


class UserQuotaSet(DomainEvent):
    """The user's token quotas as they are after it (None: unlimited), UTC day and month."""

    user_id: UUID
    tokens_per_day: int | None
    tokens_per_month: int | None


# -- projects --------------------------------------------------------------------------------


class ProjectCreated(DomainEvent):
    project_id: UUID
    user_id: UUID
    name: str
    description: str | None
    instructions: str | None = None  # for the model; events before instructions carry none


class ProjectUpdated(DomainEvent):
    """Only the fields that changed are set."""

    project_id: UUID
    name: str | None = None
    description: str | None = None
    description_set: bool = False  # description changed (possibly to null)
    instructions: str | None = None
    instructions_set: bool = False  # instructions changed (possibly to null)


class ProjectDeleted(DomainEvent):
    """Its threads stay and become project-less; its documents go."""

    project_id: UUID


# -- threads ---------------------------------------------------------------------------------


class ThreadCreated(DomainEvent):
    """v1 (before providers and thread types) had no provider, model, thread_type,
    agent_type; it is upcast to anthropic / ba_assistant. v2 named the provider
    `model_provider`."""

    schema_version: int = 3
    thread_id: UUID
    user_id: UUID
    project_id: UUID | None
    title: str
    provider: str
    model: str
    thread_type: str
    agent_type: str
    forked_from: ForkedFrom | None = None  # a fork names the message it was copied up to
    instructions: str | None = None  # for the model; events before instructions carry none


class ThreadRenamed(DomainEvent):
    """v2: a generated title carries the title task's provider, model and usage, and the
    thread's user and project (v1 events are upcast with none: their usage was never
    recorded)."""

    schema_version: int = 2
    thread_id: UUID
    title: str
    generated: bool = False  # True when the title came from the title task
    provider: str | None = None
    model: str | None = None
    usage: dict[str, Any] | None = None
    user_id: UUID | None = None  # a generated title's thread's, for the usage ledger
    project_id: UUID | None = None


class ThreadMoved(DomainEvent):
    thread_id: UUID
    from_project_id: UUID | None
    to_project_id: UUID | None


class ThreadDeleted(DomainEvent):
    thread_id: UUID


class ThreadInstructionsSet(DomainEvent):
    """The thread's instructions as they are now (None: cleared)."""

    thread_id: UUID
    instructions: str | None = None


class ThreadContextConfigured(DomainEvent):
    """The thread's context settings as they are now: its own window in tokens (None: the
    model's) and `context_policy` (`truncate` or `summarize`). A thread without one has the
    defaults (None, truncate)."""

    thread_id: UUID
    context_window: int | None = None
    context_policy: str = "truncate"


class ThreadSummarized(DomainEvent):
    """The `summary` task folded the path from the root through `through_message_id`
    (`summarized_messages` messages) into `text`, for the answer `message_id`; later answers
    below that message reuse it until it is outgrown."""

    thread_id: UUID
    through_message_id: UUID
    text: str
    summarized_messages: int
    message_id: UUID | None = None
    usage: dict[str, Any] | None = None
    # the usage ledger's keys (the summary task's provider and model, the thread's user and
    # project); a summary without them is not counted
    provider: str | None = None
    model: str | None = None
    user_id: UUID | None = None
    project_id: UUID | None = None


class ActiveLeafSet(DomainEvent):
    """The thread's active path now ends at `message_id` (already resolved to a leaf)."""

    thread_id: UUID
    message_id: UUID


# -- messages --------------------------------------------------------------------------------
#
# A thread is a tree. Every message names its parent (None for a root) and every new message
# becomes the thread's active leaf: an answer's parent is its `user_message_id`. Events stored
# before the tree (schema_version 1) are upcast with `chained` set: the thread was a chain.


class MessagePosted(DomainEvent):
    """A message stored as given (no generation); also a fork's copy of a message, which keeps
    the source's provider, model, usage and status."""

    schema_version: int = 2
    message_id: UUID
    thread_id: UUID
    role: MessageRole
    content: str
    artifact_data: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    parent_id: UUID | None = None
    # v1: it follows the thread's active leaf at the time (the message before it in the chain)
    chained: bool = False
    provider: str | None = None
    model: str | None = None
    usage: dict[str, Any] | None = None
    status: Literal["complete", "failed", "cancelled"] = "complete"


class MessageDeleted(DomainEvent):
    """The message and every message below it (`below`) are gone. When the active leaf was
    among them, the active path moved to `active_leaf_id` (None: no message is left)."""

    schema_version: int = 2
    message_id: UUID
    thread_id: UUID
    below: list[UUID] = []
    active_leaf_moved: bool = False
    active_leaf_id: UUID | None = None
    # v1 removed one message of a chain: what followed it now follows its parent, and an
    # active leaf it was moves to its parent
    chained: bool = False


class UserMessagePosted(DomainEvent):
    """A user's chat turn (or an edited question); always followed by AssistantMessageRequested
    in the same append."""

    schema_version: int = 2
    message_id: UUID
    thread_id: UUID
    content: str
    artifact_data: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    parent_id: UUID | None = None
    chained: bool = False  # v1: as for MessagePosted


class AssistantMessageRequested(DomainEvent):
    """What the chat worker consumes: a chat's answer, or a regenerated one beside an earlier
    answer to the same `user_message_id` (its parent), perhaps with another `model`."""

    message_id: UUID
    thread_id: UUID
    user_id: UUID
    user_message_id: UUID
    provider: str
    model: str
    attempt: int = 1
    # the caller's sampling options, and instructions for this answer alone (`/v1` system
    # messages), both absent from events before them
    options: GenerationOptions | None = None
    instructions: str | None = None


class AssistantMessageCompleted(DomainEvent):
    schema_version: int = 2
    message_id: UUID
    thread_id: UUID
    content: str
    finish_reason: str
    usage: dict[str, Any] | None = None
    attempt: int = 1
    # the answer's whole metadata when the worker sets it (`context`: what was left out)
    metadata: dict[str, Any] | None = None
    # reasoning streamed apart from the content; events before it carry none (read as None)
    reasoning: str | None = None
    # v2: who asked, with what, in which project at the time (the usage ledger's keys) and,
    # for every outcome, the usage the provider reported; v1 events are upcast `unkeyed`
    user_id: UUID | None = None
    provider: str | None = None
    model: str | None = None
    project_id: UUID | None = None
    unkeyed: bool = False


class AssistantMessageFailed(DomainEvent):
    schema_version: int = 2
    message_id: UUID
    thread_id: UUID
    code: str
    error: str
    content: str = ""
    attempt: int = 1
    reasoning: str | None = None  # streamed before the failure; absent from earlier events
    usage: dict[str, Any] | None = None  # what the provider reported before it failed
    # v2: who asked, with what, in which project at the time (the usage ledger's keys) and,
    # for every outcome, the usage the provider reported; v1 events are upcast `unkeyed`
    user_id: UUID | None = None
    provider: str | None = None
    model: str | None = None
    project_id: UUID | None = None
    unkeyed: bool = False


class GenerationCancelled(DomainEvent):
    """The user asked to stop; the worker answers with AssistantMessageCancelled."""

    message_id: UUID
    thread_id: UUID


class AssistantMessageCancelled(DomainEvent):
    """The partial answer, exactly the tokens the stream delivered."""

    schema_version: int = 2
    message_id: UUID
    thread_id: UUID
    content: str
    attempt: int = 1
    reasoning: str | None = None  # streamed before the cancel; absent from earlier events
    usage: dict[str, Any] | None = None  # what the provider reported before the cancel
    # v2: who asked, with what, in which project at the time (the usage ledger's keys) and,
    # for every outcome, the usage the provider reported; v1 events are upcast `unkeyed`
    user_id: UUID | None = None
    provider: str | None = None
    model: str | None = None
    project_id: UUID | None = None
    unkeyed: bool = False


# -- documents -------------------------------------------------------------------------------


class DocumentAdded(DomainEvent):
    document_id: UUID
    user_id: UUID
    project_id: UUID | None
    thread_id: UUID | None
    filename: str
    content_type: str
    content: str
    size: int


class DocumentDeleted(DomainEvent):
    document_id: UUID


# -- provider settings (keys live in the secrets table, never here) ----------------------------


class ProviderConfigured(DomainEvent):
    user_id: UUID
    provider: str
    base_url: str | None
    enabled: bool
    key_set: bool
    key_hint: str | None


class ProviderRemoved(DomainEvent):
    user_id: UUID
    provider: str


class TaskRoute(BaseModel):
    task: str
    provider: str
    model: str


class TaskRoutesSet(DomainEvent):
    user_id: UUID
    use_separate_models: bool
    routes: list[TaskRoute]


# -- share links -----------------------------------------------------------------------------


class ThreadShared(DomainEvent):
    """A share link: the snapshot it shows (the active path as it was, root first) travels in
    the event, so later messages never appear in it and replay rebuilds it as it was."""

    thread_id: UUID
    share_id: str
    user_id: UUID
    title: str
    messages: list[SharedMessage]


class ShareRevoked(DomainEvent):
    thread_id: UUID
    share_id: str


# -- imports ---------------------------------------------------------------------------------


class ImportStarted(DomainEvent):
    """An import of `total` conversations from `source` (`switchboard` or `chatgpt`)."""

    import_id: UUID
    user_id: UUID
    source: str
    total: int


class ImportedItem(BaseModel):
    seq: int  # the conversation's place in the file
    source_id: str
    thread_id: UUID | None  # None: skipped, for `reason`
    title: str | None = None
    reason: str | None = None


class ImportBatchRecorded(DomainEvent):
    """What became of one batch of an import's conversations: a thread made now or by an
    earlier import of the same source conversation, or skipped."""

    import_id: UUID
    items: list[ImportedItem]


class ConversationImported(DomainEvent):
    """The user's source conversation is now `thread_id` (stream `imported-<key>`, one per
    user and source conversation): importing it again returns that thread."""

    import_id: UUID
    user_id: UUID
    source: str
    source_id: str
    thread_id: UUID


# -- prices ----------------------------------------------------------------------------------


class ModelPriceSet(DomainEvent):
    """An admin's price for `model` (matched exactly) of `provider`, in USD per million tokens,
    over the built-in one; reasoning at the output price when `reasoning` is None."""

    provider: str
    model: str
    input_usd_per_mtok: float
    output_usd_per_mtok: float
    reasoning_usd_per_mtok: float | None = None


# -- API keys and logged-out tokens ----------------------------------------------------------


class ApiKeyCreated(DomainEvent):
    """A personal API key (stream `apikey-<key_id>`). `hash` is the gateway's HMAC-SHA256 of
    the key, never the key itself; it stays in the threads service (not relayed)."""

    key_id: UUID
    user_id: UUID
    name: str
    prefix: str
    hash: str
    expires_at: datetime | None = None

    private_fields = frozenset({"hash"})


class ApiKeyDeleted(DomainEvent):
    """Every gateway forgets the key at once (they listen for this event's subject)."""

    key_id: UUID
    user_id: UUID


class TokenRevoked(DomainEvent):
    """A logged-out login token (stream `session-<jti>`), refused by every gateway until it
    would have expired anyway."""

    jti: str
    user_id: UUID
    expires_at: datetime


EVENT_TYPES: dict[str, type[DomainEvent]] = {
    cls.type_name(): cls
    for cls in (
        UserRegistered,
        UserRoleSet,
        UserDisabled,
        UserEnabled,
        UserQuotaSet,
        ProjectCreated,
        ProjectUpdated,
        ProjectDeleted,
        ThreadCreated,
        ThreadRenamed,
        ThreadMoved,
        ThreadDeleted,
        ThreadInstructionsSet,
        ThreadContextConfigured,
        ThreadSummarized,
        ActiveLeafSet,
        MessagePosted,
        MessageDeleted,
        UserMessagePosted,
        AssistantMessageRequested,
        AssistantMessageCompleted,
        AssistantMessageFailed,
        GenerationCancelled,
        AssistantMessageCancelled,
        DocumentAdded,
        DocumentDeleted,
        ProviderConfigured,
        ProviderRemoved,
        TaskRoutesSet,
        ThreadShared,
        ShareRevoked,
        ImportStarted,
        ImportBatchRecorded,
        ConversationImported,
        ModelPriceSet,
        ApiKeyCreated,
        ApiKeyDeleted,
        TokenRevoked,
    )
}


class EventRecord(BaseModel):
    """An event as relayed to JetStream: the stored row plus its envelope."""

    event_id: UUID
    type: str
    schema_version: int
    stream_id: str
    version: int
    position: int
    recorded_at: datetime
    data: dict[str, Any]
    metadata: dict[str, Any]

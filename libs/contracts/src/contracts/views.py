"""Read-model shapes: what queries and command replies carry, and what the HTTP API returns.

The gateway uses these as response models too, so the HTTP contract and the NATS contract are
one definition.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, computed_field

MessageRole = Literal["user", "assistant"]
MessageStatus = Literal["complete", "streaming", "failed", "cancelled"]


class UserView(BaseModel):
    id: UUID
    email: str
    display_name: str | None
    created_at: datetime
    role: Literal["admin", "user"] = "user"


class QuotaView(BaseModel):
    """Token quotas per UTC day and month; None: unlimited."""

    tokens_per_day: int | None = None
    tokens_per_month: int | None = None


class UserTokensView(BaseModel):
    """Tokens (input + output) the usage ledger holds for the user this UTC day and month."""

    tokens_today: int = 0
    tokens_this_month: int = 0


class AdminUserView(BaseModel):
    id: UUID
    email: str
    display_name: str | None
    role: Literal["admin", "user"]
    disabled: bool
    quota: QuotaView
    created_at: datetime
    usage: UserTokensView


class AdminUserPageView(BaseModel):
    users: list[AdminUserView]  # oldest first
    next_cursor: str | None = None


class CredentialsView(BaseModel):
    """Only ever sent to the gateway's login path; never returned over HTTP."""

    user_id: UUID
    password_hash: str
    disabled: bool = False


class ProjectView(BaseModel):
    id: UUID
    name: str
    description: str | None
    created_at: datetime
    updated_at: datetime
    thread_count: int
    instructions: str | None = None  # for the model, in every thread of the project


class MessageView(BaseModel):
    id: UUID
    thread_id: UUID
    role: MessageRole
    content: str
    artifact_data: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    status: MessageStatus = "complete"
    provider: str | None = None
    model: str | None = None
    usage: dict[str, Any] | None = None
    # what a reasoning model streamed apart from `content` (None: none); never sent back
    reasoning: str | None = None
    created_at: datetime
    # The conversation tree: the message this one answers or follows (None for a thread's
    # first), and its place among the messages with the same parent, in creation order.
    parent_id: UUID | None = None
    sibling_index: int = 0
    sibling_count: int = 1


class ForkedFrom(BaseModel):
    thread_id: UUID
    message_id: UUID


class ThreadView(BaseModel):
    id: UUID
    title: str
    project_id: UUID | None
    project_name: str | None
    user_id: UUID
    provider: str
    model: str
    thread_type: str
    agent_type: str
    message_count: int  # every stored message, on every branch
    created_at: datetime
    updated_at: datetime
    last_activity_at: datetime
    active_leaf_id: UUID | None = None  # the end of the active path; None: no message yet
    forked_from: ForkedFrom | None = None
    instructions: str | None = None  # for the model, after the project's
    context_window: int | None = None  # the thread's own, in tokens; None: the model's
    context_policy: str = "truncate"  # or "summarize": what a too-long history becomes

    @computed_field  # type: ignore[prop-decorator]
    @property
    def model_provider(self) -> str:
        """The HTTP contract's name for `provider` (both are served)."""
        return self.provider


class ThreadDetailView(ThreadView):
    messages: list[MessageView]  # the active path, root first


class ThreadPageView(BaseModel):
    threads: list[ThreadView]
    total: int
    page: int
    page_size: int
    has_more: bool
    next_cursor: str | None = None


class SearchHitView(BaseModel):
    """One match: a message (`message_id`, `role`), or a thread's title (both None).
    `snippet` is plain text, never markup; `highlights` are the [start, end) character
    offsets in it of the words that matched, for a client to mark as it renders."""

    thread_id: UUID
    thread_title: str
    message_id: UUID | None
    role: str | None
    snippet: str
    highlights: list[tuple[int, int]]
    created_at: datetime


class SearchPageView(BaseModel):
    results: list[SearchHitView]
    next_cursor: str | None = None


class UsageTotalsView(BaseModel):
    requests: int
    input_tokens: int
    output_tokens: int
    reasoning_tokens: int
    cost_usd: float | None  # None: a price of some model in it is unknown


class UsageRowView(UsageTotalsView):
    """One group: only the keys grouped by are present (`project` None: no project)."""

    day: date | None = None
    provider: str | None = None
    model: str | None = None
    project: UUID | None = None
    task: str | None = None


class UsageView(BaseModel):
    rows: list[UsageRowView]
    totals: UsageTotalsView


class AdminUsageRowView(UsageRowView):
    """`user` and `email` present when grouped by user."""

    user: UUID | None = None
    email: str | None = None


class AdminUsageView(BaseModel):
    rows: list[AdminUsageRowView]
    totals: UsageTotalsView


class DocumentView(BaseModel):
    id: UUID
    filename: str
    content_type: str
    size: int
    project_id: UUID | None
    thread_id: UUID | None
    created_at: datetime


class DocumentDetailView(DocumentView):
    content: str


class EventView(BaseModel):
    position: int
    version: int
    type: str
    data: dict[str, Any]
    recorded_at: datetime


class ProviderView(BaseModel):
    provider: str
    display_name: str
    configured: bool
    enabled: bool
    base_url: str | None
    key_hint: str | None  # at most the last four characters
    default_model: str


class ProviderCredentialsView(BaseModel):
    """Chat worker only (qry.provider.credentials): the decrypted key of one user's provider.
    Never returned over HTTP, never logged. `api_key` None means: use the deployment's env."""

    provider: str
    configured: bool
    enabled: bool
    api_key: str | None = Field(default=None, repr=False)
    base_url: str | None = None


class TaskRouteView(BaseModel):
    task: str
    provider: str
    model: str


class TaskRoutesView(BaseModel):
    use_separate_models: bool
    routes: list[TaskRouteView]


class ModelView(BaseModel):
    provider: str
    id: str
    display_name: str
    context_window: int | None = None  # input tokens: the provider's listing, else known


class ModelErrorView(BaseModel):
    provider: str
    detail: str


class ModelsView(BaseModel):
    models: list[ModelView]
    errors: list[ModelErrorView]


class DocumentTextView(BaseModel):
    filename: str
    content: str


class ThreadSummaryView(BaseModel):
    """A summary of the path from the root through `through_message_id`."""

    through_message_id: UUID
    text: str
    summarized_messages: int


class ChatContextView(BaseModel):
    """What the chat worker needs to answer one assistant message: asked for on
    qry.chat.context, or pushed on `push.chat.context.<message id>` when PostChat commits
    (never with `credentials`: a user with a saved config for the provider gets no push)."""

    thread: ThreadView
    history: list[MessageView]  # oldest first, up to and including the user's message
    documents: list[DocumentTextView]  # the thread's, then its project's
    message_status: MessageStatus | None  # of the assistant message being answered
    title_task: TaskRouteView | None = None  # where titles go, when use_separate_models
    cancel_requested: bool = False  # GenerationCancelled already recorded for this message
    message: MessageView | None = None  # the assistant message itself (its stored outcome)
    first_exchange: bool = False  # this answer is the thread's first (titles are made then)
    project_instructions: str | None = None  # the thread's project's (the thread's: `thread`)
    summary_task: TaskRouteView | None = None  # where summaries go, when use_separate_models
    # the newest summary of this answer's ancestors (`context_policy` summarize)
    summary: ThreadSummaryView | None = None
    # The user's own config for `credentials_for`, when asked for; None: none saved.
    credentials: ProviderCredentialsView | None = None


class ChatStartedView(BaseModel):
    """Reply to PostChat: what `message_start` announces."""

    thread_id: UUID
    user_message_id: UUID
    message_id: UUID
    provider: str
    model: str


class ChatMessageView(BaseModel):
    """One assistant message with what its stream's terminal event needs (qry.chat.message):
    the gateway replays a finished answer from here once its tokens have expired."""

    message: MessageView
    user_message_id: UUID | None = None
    attempt: int = 1
    finish_reason: str | None = None
    error_code: str | None = None
    error: str | None = None


# -- replies of lists and of commands that return no resource --------------------------------


class ProjectListView(BaseModel):
    projects: list[ProjectView]


class MessageListView(BaseModel):
    messages: list[MessageView]


class DocumentListView(BaseModel):
    documents: list[DocumentView]


class ProviderListView(BaseModel):
    providers: list[ProviderView]


class EventListView(BaseModel):
    events: list[EventView]


class AckView(BaseModel):
    """A command that leaves nothing to show (a delete): what it did, in words."""

    message: str


class OutcomeRecordedView(BaseModel):
    """Reply to a worker's outcome command (complete, fail, record cancelled)."""

    message_id: UUID
    status: MessageStatus


class CancelView(BaseModel):
    message_id: UUID
    status: MessageStatus
    cancel_requested: bool


class TitleSetView(BaseModel):
    thread_id: UUID
    title: str
    applied: bool  # false: the thread had a title of its own already


class HealthView(BaseModel):
    status: str


# -- share links and imports -----------------------------------------------------------------


class SharedMessage(BaseModel):
    """A message as a share link shows it: nothing that names a user, a thread or a message."""

    role: MessageRole
    content: str
    created_at: datetime


class SharedThreadView(BaseModel):
    """What anyone with the link reads (`GET /api/shared/{share_id}`, no token)."""

    title: str
    messages: list[SharedMessage]  # the active path when it was shared, root first
    created_at: datetime


class ShareView(BaseModel):
    share_id: str
    thread_id: UUID
    created_at: datetime


class ShareListView(BaseModel):
    shares: list[ShareView]  # newest first


class ImportedThreadView(BaseModel):
    id: UUID
    title: str
    source_id: str


class SkippedConversationView(BaseModel):
    source_id: str
    reason: str


class ImportResultView(BaseModel):
    """Reply to one batch of an import, and the body of `POST /api/imports`."""

    threads: list[ImportedThreadView]
    skipped: list[SkippedConversationView]


class ImportView(ImportResultView):
    """An import as far as it got (`GET /api/imports/{id}`): `done` once every conversation of
    the file is handled."""

    id: UUID
    source: str
    status: Literal["running", "done"]
    total: int
    handled: int
    created_at: datetime


class ApiKeyView(BaseModel):
    """A personal API key as listed: never the key, only its first characters (`prefix`)."""

    id: UUID
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None = None


class ApiKeyListView(BaseModel):
    keys: list[ApiKeyView]  # newest first


class ApiKeyOwnerView(BaseModel):
    """Only ever sent to a gateway verifying a presented key; never returned over HTTP."""

    key_id: UUID
    user_id: UUID
    expires_at: datetime | None


class RevocationsView(BaseModel):
    """The logged-out tokens not yet expired: what a gateway that starts must refuse."""

    tokens: dict[str, datetime]  # jti → when the token would have expired
    disabled_users: list[UUID] = []  # every credential of theirs is refused

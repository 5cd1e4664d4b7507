"""Commands: orders to the threads service over NATS request/reply (`contracts.subjects`).

Every command carries the acting user in `meta.user_id` (except registration) and a
`command_id` for idempotency. Ids of new things are chosen by the sender, so a retried command
names the same thing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from contracts import subjects as s
from contracts.base import Command
from contracts.events import TaskRoute
from contracts.generation import GenerationOptions
from contracts.views import (
    AckView,
    AdminUserView,
    ApiKeyView,
    CancelView,
    ChatStartedView,
    DocumentView,
    ImportResultView,
    MessageRole,
    MessageView,
    OutcomeRecordedView,
    ProjectView,
    ProviderView,
    ShareView,
    TaskRoutesView,
    ThreadView,
    TitleSetView,
    UserView,
)


class RegisterUser(Command[UserView]):
    subject: ClassVar[str] = s.USER_REGISTER
    user_id: UUID
    email: str
    display_name: str | None = None
    password_hash: str


class SetUserRole(Command[UserView]):
    """An operator's `switchboard-threads admin grant|revoke EMAIL`: trusted, no acting user."""

    subject: ClassVar[str] = s.USER_ROLE_SET
    email: str = Field(min_length=1, max_length=320)
    role: Literal["admin", "user"]


QuotaKey = Literal["tokens_per_day", "tokens_per_month"]


class UpdateUser(Command[AdminUserView]):
    """An admin's change of a user (`meta.user_id` must be an admin, per the read model): each
    field given is changed; `quota` names only the quotas it changes (None: unlimited)."""

    subject: ClassVar[str] = s.ADMIN_USER_UPDATE
    user_id: UUID
    role: Literal["admin", "user"] | None = None
    disabled: bool | None = None
    quota: dict[QuotaKey, Annotated[int, Field(ge=0)] | None] | None = None


class CreateProject(Command[ProjectView]):
    subject: ClassVar[str] = s.PROJECT_CREATE
    project_id: UUID
    name: str
    description: str | None = None
    instructions: str | None = None


class UpdateProject(Command[ProjectView]):
    subject: ClassVar[str] = s.PROJECT_UPDATE
    project_id: UUID
    name: str | None = None
    description: str | None = None
    description_set: bool = False
    instructions: str | None = None
    instructions_set: bool = False  # given at all: null clears them


class DeleteProject(Command[AckView]):
    subject: ClassVar[str] = s.PROJECT_DELETE
    project_id: UUID


class CreateThread(Command[ThreadView]):
    subject: ClassVar[str] = s.THREAD_CREATE
    thread_id: UUID
    project_id: UUID | None = None
    title: str | None = None
    provider: str | None = None  # the HTTP body calls it model_provider
    model: str | None = None
    thread_type: str | None = None
    agent_type: str | None = None
    instructions: str | None = None
    context_window: int | None = None  # tokens; None: the model's
    context_policy: str | None = None  # None: truncate


class UpdateThread(Command[ThreadView]):
    """`move` says whether project_id was given at all: moving to null makes it project-less."""

    subject: ClassVar[str] = s.THREAD_UPDATE

    thread_id: UUID
    title: str | None = None
    move: bool = False
    project_id: UUID | None = None
    instructions: str | None = None
    instructions_set: bool = False  # given at all: null clears them
    # `context_window_set` says whether context_window was given: null goes back to the model's
    context_window: int | None = None
    context_window_set: bool = False
    context_policy: str | None = None


class RecordThreadSummary(Command[AckView]):
    """From the chat worker: the `summary` task's text for the path through
    `through_message_id`, made while answering `message_id`."""

    subject: ClassVar[str] = s.THREAD_RECORD_SUMMARY

    thread_id: UUID
    through_message_id: UUID
    text: str
    summarized_messages: int
    message_id: UUID | None = None
    usage: dict[str, Any] | None = None
    provider: str | None = None  # the summary task's, for the usage ledger
    model: str | None = None


class SetGeneratedTitle(Command[TitleSetView]):
    """From the chat worker: applied only while the thread is still titled `New Chat`."""

    subject: ClassVar[str] = s.THREAD_SET_TITLE

    thread_id: UUID
    title: str
    provider: str | None = None  # the title task's, for the usage ledger
    model: str | None = None
    usage: dict[str, Any] | None = None


class SetActiveLeaf(Command[ThreadView]):
    """The active path becomes the path to `message_id`, then below it the most recently
    created child at each level."""

    subject: ClassVar[str] = s.THREAD_SET_ACTIVE_LEAF
    thread_id: UUID
    message_id: UUID


class ForkThread(Command[ThreadView]):
    """A new thread (same provider, model, project, type) holding copies of the path from the
    root to `message_id`, naming its source in `forked_from`."""

    subject: ClassVar[str] = s.THREAD_FORK
    thread_id: UUID
    message_id: UUID
    new_thread_id: UUID


class DeleteThread(Command[AckView]):
    subject: ClassVar[str] = s.THREAD_DELETE
    thread_id: UUID


class PostMessage(Command[MessageView]):
    """A message stored as given; `parent_id` as for PostChat. It becomes the active leaf."""

    subject: ClassVar[str] = s.MESSAGE_POST
    thread_id: UUID
    message_id: UUID
    role: MessageRole
    content: str = ""
    artifact_data: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    parent_id: UUID | None = None


class DeleteMessage(Command[AckView]):
    subject: ClassVar[str] = s.MESSAGE_DELETE
    message_id: UUID


class AddDocument(Command[DocumentView]):
    subject: ClassVar[str] = s.DOCUMENT_ADD
    document_id: UUID
    project_id: UUID | None = None
    thread_id: UUID | None = None
    filename: str
    content_type: str = "text/plain"
    content: str


class DeleteDocument(Command[AckView]):
    subject: ClassVar[str] = s.DOCUMENT_DELETE
    document_id: UUID


# -- chat ------------------------------------------------------------------------------------


class PostChat(Command[ChatStartedView]):
    """A user turn and its answer. `parent_id` None: after the thread's active leaf; given (any
    message of the thread): a new branch there. The answer becomes the active leaf."""

    subject: ClassVar[str] = s.CHAT_POST
    thread_id: UUID
    user_message_id: UUID
    assistant_message_id: UUID
    content: str
    artifact_data: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    parent_id: UUID | None = None
    options: GenerationOptions | None = None
    instructions: str | None = None  # for this answer alone (`/v1` system messages)


class EarlierMessage(BaseModel):
    """A message of the conversation so far, stored as given (before a `StartChat`'s turn)."""

    message_id: UUID
    role: MessageRole
    content: str = ""
    metadata: dict[str, Any] | None = None


class StartChat(PostChat):
    """A new thread (as `CreateThread` makes it), the conversation so far (`earlier`, each below
    the one before) and a chat after them, in one transaction: refused whole, so a refusal (a
    quota, say) leaves no thread behind. `/v1` without a thread sends it."""

    subject: ClassVar[str] = s.CHAT_START
    provider: str | None = None
    model: str | None = None
    thread_type: str | None = None
    agent_type: str | None = None
    earlier: list[EarlierMessage] = Field(default_factory=list)


class RegenerateAnswer(Command[ChatStartedView]):
    """A new answer beside `message_id` (an assistant message): same question, same ancestors,
    optionally another `model` of the thread's provider. It becomes the active leaf."""

    subject: ClassVar[str] = s.CHAT_REGENERATE
    thread_id: UUID
    message_id: UUID
    assistant_message_id: UUID  # the new answer's id, chosen by the sender
    model: str | None = Field(default=None, max_length=200)
    options: GenerationOptions | None = None


class EditMessage(Command[ChatStartedView]):
    """A new user message beside `message_id` (a user message) with new content, and its
    answer, which becomes the active leaf."""

    subject: ClassVar[str] = s.CHAT_EDIT
    thread_id: UUID
    message_id: UUID
    user_message_id: UUID  # the new question's id
    assistant_message_id: UUID  # its answer's id
    content: str
    artifact_data: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    options: GenerationOptions | None = None


class CompleteAssistantMessage(Command[OutcomeRecordedView]):
    subject: ClassVar[str] = s.CHAT_COMPLETE
    thread_id: UUID
    message_id: UUID
    content: str
    finish_reason: str
    usage: dict[str, Any] | None = None
    attempt: int = 1
    metadata: dict[str, Any] | None = None  # the answer's whole metadata, when the worker sets it
    reasoning: str | None = None  # streamed apart from the content; None: the provider sent none


class FailAssistantMessage(Command[OutcomeRecordedView]):
    subject: ClassVar[str] = s.CHAT_FAIL
    thread_id: UUID
    message_id: UUID
    code: str
    error: str
    content: str = ""
    attempt: int = 1
    reasoning: str | None = None  # what was streamed before the failure
    usage: dict[str, Any] | None = None  # what the provider reported before it failed


class CancelGeneration(Command[CancelView]):
    subject: ClassVar[str] = s.CHAT_CANCEL
    thread_id: UUID
    message_id: UUID


class RecordCancelledMessage(Command[OutcomeRecordedView]):
    subject: ClassVar[str] = s.CHAT_RECORD_CANCELLED
    thread_id: UUID
    message_id: UUID
    content: str
    attempt: int = 1
    reasoning: str | None = None  # what was streamed before the cancel
    usage: dict[str, Any] | None = None  # what the provider reported before the cancel


# -- prices ----------------------------------------------------------------------------------


class SetModelPrice(Command[AckView]):
    """An admin's price of `model` of `provider` (USD per million tokens), over the built-in
    one; old usage is costed at it too. Sent by `switchboard-threads prices set`."""

    subject: ClassVar[str] = s.PRICE_SET

    provider: str = Field(min_length=1, max_length=64)
    model: str = Field(min_length=1, max_length=200)
    input_usd_per_mtok: float = Field(ge=0, allow_inf_nan=False)
    output_usd_per_mtok: float = Field(ge=0, allow_inf_nan=False)
    reasoning_usd_per_mtok: float | None = Field(default=None, ge=0, allow_inf_nan=False)


# -- provider settings -----------------------------------------------------------------------


class ConfigureProvider(Command[ProviderView]):
    """`api_key` travels only gateway → threads over NATS and is encrypted before storage."""

    subject: ClassVar[str] = s.PROVIDER_CONFIGURE

    provider: str
    api_key: str | None = Field(default=None, repr=False)
    api_key_set: bool = False  # the field was present (an empty string clears the key)
    base_url: str | None = None
    base_url_set: bool = False
    enabled: bool | None = None


class RemoveProvider(Command[AckView]):
    subject: ClassVar[str] = s.PROVIDER_REMOVE
    provider: str


class SetTaskRoutes(Command[TaskRoutesView]):
    subject: ClassVar[str] = s.TASK_ROUTES_SET
    use_separate_models: bool
    routes: list[TaskRoute]


# -- share links and imports -----------------------------------------------------------------


class ShareThread(Command[ShareView]):
    """A share link to a snapshot of the thread's active path as it is now. `share_id` is
    chosen by the sender: unguessable (128 bits or more), it is all a reader needs."""

    subject: ClassVar[str] = s.THREAD_SHARE
    thread_id: UUID
    share_id: str = Field(min_length=22, max_length=64)


class RevokeShare(Command[AckView]):
    subject: ClassVar[str] = s.SHARE_REVOKE
    share_id: str = Field(max_length=64)


class ImportMessage(BaseModel):
    """One message of a conversation to import; `ref` is its id in the source, `parent_ref`
    its parent's (None: a root). Parents come before their children."""

    ref: str = Field(max_length=255)
    parent_ref: str | None = Field(default=None, max_length=255)
    role: MessageRole
    content: str
    artifact_data: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None  # holds `imported`: the source's id and times
    provider: str | None = None
    model: str | None = None
    usage: dict[str, Any] | None = None
    status: Literal["complete", "failed", "cancelled"] = "complete"


class ImportDocument(BaseModel):
    filename: str
    content_type: str = "text/plain"
    content: str


class ImportConversation(BaseModel):
    """A source conversation, already validated and put in Switchboard's terms (the gateway
    reads the file); `active_ref` is the message the active path ends at."""

    seq: int  # its place in the file
    source_id: str = Field(min_length=1, max_length=255)
    title: str
    messages: list[ImportMessage]
    active_ref: str | None = None
    documents: list[ImportDocument] = []
    skip: str | None = None  # the reason it is not imported (nothing to import in it)
    provider: str | None = None  # its own binding, when the command names none
    model: str | None = None


class ImportConversations(Command[ImportResultView]):
    """One batch of an import (a file is sent in batches that each fit a NATS message; the
    first also starts the import). Each source conversation already imported by this user
    answers with its thread; each new one becomes a thread, with its tree and active leaf."""

    subject: ClassVar[str] = s.IMPORT_BATCH
    import_id: UUID
    source: Literal["switchboard", "chatgpt"]
    total: int = Field(ge=0)
    first: bool = False
    project_id: UUID | None = None
    provider: str | None = None
    model: str | None = None
    conversations: list[ImportConversation]


# -- API keys and logout ---------------------------------------------------------------------


class CreateApiKey(Command[ApiKeyView]):
    """A personal API key, made by the gateway: the threads service gets its keyed hash and
    its prefix, never the key."""

    subject: ClassVar[str] = s.APIKEY_CREATE
    key_id: UUID
    name: str = Field(min_length=1, max_length=100)
    prefix: str = Field(min_length=4, max_length=16)
    hash: str = Field(min_length=64, max_length=64)
    expires_at: datetime | None = None


class DeleteApiKey(Command[AckView]):
    subject: ClassVar[str] = s.APIKEY_DELETE
    key_id: UUID


class TouchApiKey(Command[AckView]):
    """The key was used at `used_at`: sent at most once a minute per key by each gateway, kept
    in one overwritten row (no event per use)."""

    subject: ClassVar[str] = s.APIKEY_TOUCH
    key_id: UUID
    used_at: datetime


class RevokeToken(Command[AckView]):
    """Logout: the login token `jti` is refused everywhere until `expires_at`."""

    subject: ClassVar[str] = s.TOKEN_REVOKE
    jti: str = Field(min_length=1, max_length=64)
    expires_at: datetime

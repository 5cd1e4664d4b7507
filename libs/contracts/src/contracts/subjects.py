"""Every NATS subject and stream name, in one place."""

from __future__ import annotations

from uuid import UUID

THREADS_QUEUE = "threads"  # queue group shared by all threads-service replicas

# -- commands: cmd.<aggregate>.<action> ------------------------------------------------------
USER_REGISTER = "cmd.user.register"
USER_ROLE_SET = "cmd.user.role"  # an operator's grant or revoke (the threads CLI)
ADMIN_USER_UPDATE = "cmd.admin.user.update"  # an admin's PATCH of a user
PROJECT_CREATE = "cmd.project.create"
PROJECT_UPDATE = "cmd.project.update"
PROJECT_DELETE = "cmd.project.delete"
THREAD_CREATE = "cmd.thread.create"
THREAD_UPDATE = "cmd.thread.update"
THREAD_DELETE = "cmd.thread.delete"
THREAD_SET_ACTIVE_LEAF = "cmd.thread.set_active_leaf"
THREAD_FORK = "cmd.thread.fork"
MESSAGE_POST = "cmd.message.post"
MESSAGE_DELETE = "cmd.message.delete"
DOCUMENT_ADD = "cmd.document.add"
DOCUMENT_DELETE = "cmd.document.delete"
CHAT_POST = "cmd.chat.post"
CHAT_START = "cmd.chat.start"
CHAT_REGENERATE = "cmd.chat.regenerate"
CHAT_EDIT = "cmd.chat.edit"
CHAT_COMPLETE = "cmd.chat.complete"
CHAT_FAIL = "cmd.chat.fail"
CHAT_CANCEL = "cmd.chat.cancel"
CHAT_RECORD_CANCELLED = "cmd.chat.record_cancelled"
THREAD_SET_TITLE = "cmd.thread.set_title"
THREAD_RECORD_SUMMARY = "cmd.thread.record_summary"
PROVIDER_CONFIGURE = "cmd.provider.configure"
PROVIDER_REMOVE = "cmd.provider.remove"
TASK_ROUTES_SET = "cmd.taskroutes.set"
PRICE_SET = "cmd.price.set"  # an admin's price of a model (the threads CLI)
THREAD_SHARE = "cmd.thread.share"
SHARE_REVOKE = "cmd.share.revoke"
IMPORT_BATCH = "cmd.import.batch"
APIKEY_CREATE = "cmd.apikey.create"
APIKEY_DELETE = "cmd.apikey.delete"
APIKEY_TOUCH = "cmd.apikey.touch"  # a key's last use, at most once a minute per gateway
TOKEN_REVOKE = "cmd.token.revoke"  # logout

# -- queries: qry.<name> ---------------------------------------------------------------------
USER_GET = "qry.user.get"
USER_CREDENTIALS = "qry.user.credentials"
ADMIN_USERS = "qry.admin.users"  # every user, paged, with usage totals (admins only)
ADMIN_USAGE = "qry.admin.usage"  # every user's usage ledger, grouped (admins only)
PROJECTS_LIST = "qry.projects.list"
PROJECT_GET = "qry.project.get"
THREADS_LIST = "qry.threads.list"
THREAD_GET = "qry.thread.get"
THREAD_EVENTS = "qry.thread.events"
MESSAGES_LIST = "qry.messages.list"
MESSAGE_GET = "qry.message.get"
DOCUMENTS_LIST = "qry.documents.list"
DOCUMENT_GET = "qry.document.get"
CHAT_CONTEXT = "qry.chat.context"
CHAT_MESSAGE = "qry.chat.message"  # one assistant message and its outcome, for streams
PROVIDERS_LIST = "qry.providers.list"
PROVIDER_CREDENTIALS = "qry.provider.credentials"  # worker only: decrypted key, never to HTTP
TASK_ROUTES_GET = "qry.taskroutes.get"
MODELS_LIST = "qry.models.list"  # answered by the chat worker
HEALTH_THREADS = "qry.health.threads"
SHARES_LIST = "qry.shares.list"
SHARED_GET = "qry.shared.get"  # a share link's snapshot: asked without a user
IMPORT_GET = "qry.import.get"
SEARCH = "qry.search"  # full-text search over the user's messages and titles
USAGE = "qry.usage"  # the user's usage ledger, grouped
APIKEYS_LIST = "qry.apikeys.list"
APIKEY_VERIFY = "qry.apikey.verify"  # a gateway's cache miss: the key of a hash, no user
REVOCATIONS = "qry.revocations"  # the revocations in force, for a gateway that starts

# -- JetStream -------------------------------------------------------------------------------
EVENTS_STREAM = "EVENTS"
EVENTS_SUBJECTS = "events.>"
TOKENS_STREAM = "TOKENS"
TOKENS_SUBJECTS = "tokens.>"
CHAT_WORKER_DURABLE = "chat-worker"


def event_subject(stream_id: str, event_type: str) -> str:
    """events.<aggregate>.<stream id>.<EventType>; stream ids look like `thread-<uuid>`."""
    aggregate, _, ident = stream_id.partition("-")
    return f"events.{aggregate}.{ident or aggregate}.{event_type}"


ASSISTANT_REQUESTED_FILTER = "events.thread.*.AssistantMessageRequested"
# JetStream says once when a request ran out of deliveries (`WORKER_MAX_DELIVER`) unanswered.
REQUEST_EXHAUSTED_ADVISORY = (
    f"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{EVENTS_STREAM}.{CHAT_WORKER_DURABLE}"
)
CANCEL_FILTER = "events.thread.*.GenerationCancelled"
# What every gateway drops from its memory at once (core subscriptions, no queue group).
REVOCATION_FILTERS = (
    "events.apikey.*.ApiKeyDeleted",
    "events.session.*.TokenRevoked",
    "events.user.*.UserDisabled",
    "events.user.*.UserEnabled",
)


# -- pushes: push.<what>.<id>, core NATS, heard by whoever listens and never stored ----------
# The chat context as of PostChat's commit, published just before its events are relayed: the
# worker that gets the request answers its first delivery without asking (qry.chat.context).
CHAT_CONTEXT_PUSH_FILTER = "push.chat.context.*"


def chat_context_push_subject(message_id: UUID | str) -> str:
    return f"push.chat.context.{message_id}"


def tokens_subject(thread_id: UUID | str, message_id: UUID | str) -> str:
    return f"tokens.{thread_id}.{message_id}"

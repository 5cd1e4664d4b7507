"""Every table of the threads service, in one SQLAlchemy metadata that Alembic owns.

Read-model tables carry no schema qualifier on purpose: replay rebuilds them in a shadow schema
by putting it first on the `search_path` (see `threads.replay`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Computed,
    Date,
    DateTime,
    Double,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR, UUID
from sqlalchemy.dialects.postgresql.base import ischema_names
from sqlalchemy.types import UserDefinedType

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
TS = DateTime(timezone=True)


class XID8(UserDefinedType[int]):
    """PostgreSQL's 64-bit transaction id type."""

    cache_ok = True

    def get_col_spec(self, **_: object) -> str:
        return "xid8"


ischema_names["xid8"] = XID8  # so reflection (Alembic's autogenerate) knows it too


# -- the event store (append-only; source of truth) ------------------------------------------

events = Table(
    "events",
    metadata,
    Column("global_position", BigInteger, Identity(always=True), primary_key=True),
    Column("stream_id", String(80), nullable=False),
    Column("stream_version", Integer, nullable=False),
    Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("event_type", String(80), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("data", JSONB, nullable=False),
    Column("metadata", JSONB, nullable=False),
    Column("recorded_at", TS, nullable=False, server_default=text("now()")),
    # The writing transaction: replay uses it to find events that committed after its snapshot.
    Column("transaction_id", XID8, nullable=False, server_default=text("pg_current_xact_id()")),
    UniqueConstraint("stream_id", "stream_version", name="uq_events_stream_version"),
    Index("ix_events_transaction_id", "transaction_id"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("global_position", BigInteger, primary_key=True),
)

processed_commands = Table(
    "processed_commands",
    metadata,
    Column("actor", String(64), nullable=False),
    Column("command_id", String(255), nullable=False),
    Column("command_type", String(80), nullable=False),
    Column("reply", JSONB, nullable=False),
    Column("processed_at", TS, nullable=False, server_default=text("now()")),
    PrimaryKeyConstraint("actor", "command_id"),
)

# Provider API keys: mutable, encrypted, referenced by events but never inside them.
secrets = Table(
    "provider_secrets",
    metadata,
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("provider", String(40), nullable=False),
    Column("key_id", String(40), nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("updated_at", TS, nullable=False, server_default=text("now()")),
    PrimaryKeyConstraint("user_id", "provider"),
)

# -- read models (rebuilt from events by replay) ----------------------------------------------

users = Table(
    "users",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("display_name", String(255)),
    Column("password_hash", Text, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("role", String(16), nullable=False, server_default="user"),
    Column("disabled", Boolean, nullable=False, server_default=text("false")),
    Column("tokens_per_day", BigInteger),
    Column("tokens_per_month", BigInteger),
    Index("ix_users_admins", "id", postgresql_where=text("role = 'admin'")),
    Index("ix_users_created", "created_at", "id"),
)

projects = Table(
    "projects",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("name", String(255), nullable=False),
    Column("description", Text),
    Column("instructions", Text),  # for the model (migration 0007)
    Column("thread_count", Integer, nullable=False, server_default="0"),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("last_activity_at", TS, nullable=False),
    Index("ix_projects_user_activity", "user_id", "last_activity_at"),
)

threads = Table(
    "threads",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("project_id", UUID(as_uuid=True)),
    Column("project_name", String(255)),
    Column("title", String(255), nullable=False),
    Column("provider", String(40), nullable=False),
    Column("model", String(255), nullable=False),
    Column("thread_type", String(40), nullable=False),
    Column("agent_type", String(50), nullable=False),
    Column("message_count", Integer, nullable=False, server_default="0"),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("last_activity_at", TS, nullable=False),
    # the conversation tree (migration 0003): where the active path ends, and a fork's source
    Column("active_leaf_id", UUID(as_uuid=True)),
    Column("forked_from_thread_id", UUID(as_uuid=True)),
    Column("forked_from_message_id", UUID(as_uuid=True)),
    # full-text search over the title (migration 0005): generated, never written
    Column("search", TSVECTOR, Computed("setweight(search_vector(title), 'A')", persisted=True)),
    Column("instructions", Text),  # for the model, after the project's (migration 0007)
    # context settings (migration 0008): the thread's own window (None: the model's), policy
    Column("context_window", Integer),
    Column("context_policy", String(16), nullable=False, server_default="truncate"),
    Index("ix_threads_user_activity", "user_id", text("last_activity_at DESC"), text("id DESC")),
    Index(
        "ix_threads_user_project_activity",
        "user_id",
        "project_id",
        text("last_activity_at DESC"),
        text("id DESC"),
    ),
    Index("ix_threads_user_id_search", "user_id", "search", postgresql_using="gin"),
    # title search (`q`): trigram GIN, needs the pg_trgm extension (migration 0002)
    Index(
        "ix_threads_title_trgm",
        "title",
        postgresql_using="gin",
        postgresql_ops={"title": "gin_trgm_ops"},
    ),
)

# How many threads each user has: the list's `total` without counting rows.
user_thread_counts = Table(
    "user_thread_counts",
    metadata,
    Column("user_id", UUID(as_uuid=True), primary_key=True),
    Column("thread_count", Integer, nullable=False, server_default="0"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("seq", BigInteger, nullable=False),  # global position of the posting event: order
    Column("thread_id", UUID(as_uuid=True), nullable=False),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("role", String(16), nullable=False),
    Column("content", Text, nullable=False),
    Column("artifact_data", JSONB),
    Column("metadata", JSONB),
    Column("status", String(16), nullable=False),
    Column("provider", String(40)),
    Column("model", String(255)),
    Column("usage", JSONB),
    Column("attempt", Integer, nullable=False, server_default="1"),
    Column("created_at", TS, nullable=False),
    Column("parent_id", UUID(as_uuid=True)),  # None for a root (migration 0003)
    # full-text search over the content (migration 0005): generated, never written
    Column("search", TSVECTOR, Computed("search_vector(content)", persisted=True)),
    Column("reasoning", Text),  # streamed apart from the content (migration 0009)
    Index("ix_messages_thread_seq", "thread_id", "seq"),
    # search: one user's matches (GIN via btree_gin), and their newest first
    Index("ix_messages_user_id_search", "user_id", "search", postgresql_using="gin"),
    Index("ix_messages_user_id_seq", "user_id", "seq"),
    # a message's siblings, in order (roots: parent_id NULL within the thread)
    Index("ix_messages_thread_parent_seq", "thread_id", "parent_id", "seq"),
    # "is an answer of this thread streaming?" reads only the few streaming rows
    Index(
        "ix_messages_streaming",
        "thread_id",
        postgresql_where=text("status = 'streaming'"),
    ),
)

documents = Table(
    "documents",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("project_id", UUID(as_uuid=True)),
    Column("thread_id", UUID(as_uuid=True)),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(127), nullable=False),
    Column("size", Integer, nullable=False),
    Column("content", Text, nullable=False),
    Column("created_at", TS, nullable=False),
    Index("ix_documents_project", "project_id"),
    Index("ix_documents_thread", "thread_id"),
)

provider_settings = Table(
    "provider_settings",
    metadata,
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("provider", String(40), nullable=False),
    Column("base_url", Text),
    Column("enabled", Boolean, nullable=False),
    Column("key_set", Boolean, nullable=False),
    Column("key_hint", String(8)),
    Column("updated_at", TS, nullable=False),
    PrimaryKeyConstraint("user_id", "provider"),
)

task_routes = Table(
    "task_routes",
    metadata,
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("task", String(20), nullable=False),
    Column("provider", String(40), nullable=False),
    Column("model", String(255), nullable=False),
    PrimaryKeyConstraint("user_id", "task"),
)

# Summaries of a thread's oldest turns (migration 0008): each covers the path from the root
# through `through_message_id` (the summary task's ThreadSummarized).
thread_summaries = Table(
    "thread_summaries",
    metadata,
    Column("thread_id", UUID(as_uuid=True), nullable=False),
    Column("through_message_id", UUID(as_uuid=True), nullable=False),
    Column("text", Text, nullable=False),
    Column("summarized_messages", Integer, nullable=False),
    Column("usage", JSONB),
    Column("created_at", TS, nullable=False),
    PrimaryKeyConstraint("thread_id", "through_message_id"),
)

preferences = Table(
    "preferences",
    metadata,
    Column("user_id", UUID(as_uuid=True), primary_key=True),
    Column("use_separate_models", Boolean, nullable=False, server_default="false"),
)

# Share links (migration 0006): a read-only snapshot of a thread's active path as it was
# when shared (ThreadShared carries it); revoking or deleting the thread removes the row.
shares = Table(
    "shares",
    metadata,
    Column("share_id", String(64), primary_key=True),
    Column("thread_id", UUID(as_uuid=True), nullable=False),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("title", String(255), nullable=False),
    Column("messages", JSONB, nullable=False),  # [{role, content, created_at}], root first
    Column("created_at", TS, nullable=False),
    Index("ix_shares_thread", "thread_id"),
)

# Imports (migration 0006): which thread each source conversation became, per user (the
# idempotency map, from ConversationImported), and each import's progress and outcome.
imported_sources = Table(
    "imported_sources",
    metadata,
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("source", String(20), nullable=False),
    Column("source_id", String(255), nullable=False),
    Column("thread_id", UUID(as_uuid=True), nullable=False),
    Column("import_id", UUID(as_uuid=True), nullable=False),
    Column("imported_at", TS, nullable=False),
    PrimaryKeyConstraint("user_id", "source", "source_id"),
)

imports = Table(
    "imports",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("source", String(20), nullable=False),
    Column("total", Integer, nullable=False),
    Column("handled", Integer, nullable=False, server_default="0"),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)

import_items = Table(
    "import_items",
    metadata,
    Column("import_id", UUID(as_uuid=True), nullable=False),
    Column("seq", Integer, nullable=False),  # the conversation's place in the file
    Column("source_id", String(255), nullable=False),
    Column("thread_id", UUID(as_uuid=True)),  # None: skipped
    Column("title", String(255)),
    Column("reason", Text),
    PrimaryKeyConstraint("import_id", "seq"),
)

_COUNTERS = ("requests", "input_tokens", "output_tokens", "reasoning_tokens")


def _usage_table(name: str, period: str, *, per_project_and_task: bool) -> Table:
    """Usage counters per user, `period` (a UTC day, or a month as its first day), provider and
    model, and optionally project and task; the key is every column before the counters."""
    keys: list[Column[Any]] = [
        Column("user_id", UUID(as_uuid=True), nullable=False),
        Column(period, Date, nullable=False),
        Column("provider", String(64), nullable=False),
        Column("model", String(200), nullable=False),
    ]
    if per_project_and_task:
        keys.append(Column("project_key", UUID(as_uuid=True), nullable=False))
        keys.append(Column("task", String(16), nullable=False))
    return Table(
        name,
        metadata,
        *keys,
        *(Column(c, BigInteger, nullable=False, server_default="0") for c in _COUNTERS),
        PrimaryKeyConstraint(*(c.name for c in keys)),
        Index(f"ix_{name}_{period}", period),
    )


# Provider-reported usage per user, UTC day, provider, model, project and task (migration
# 0010): counters the usage events add to (`projections.usage`). No project: the nil UUID.
usage_ledger = _usage_table("usage_ledger", "day", per_project_and_task=True)

# Rollups of the ledger kept by the same usage events (migration 0013), so a range grouped by
# few keys reads few rows (`queries.usage` picks the smallest that covers the asked keys):
# per user, UTC day, provider and model; per user, month (its first day) and every other key.
usage_daily = _usage_table("usage_daily", "day", per_project_and_task=False)
usage_monthly = _usage_table("usage_monthly", "month", per_project_and_task=True)

# Prices an admin set (ModelPriceSet), over the built-in ones of `contracts.prices`.
model_prices = Table(
    "model_prices",
    metadata,
    Column("provider", String(64), nullable=False),
    Column("model", String(200), nullable=False),
    Column("input_usd_per_mtok", Double, nullable=False),
    Column("output_usd_per_mtok", Double, nullable=False),
    Column("reasoning_usd_per_mtok", Double),
    Column("set_at", TS, nullable=False),
    PrimaryKeyConstraint("provider", "model"),
)


# Personal API keys (migration 0011): the keyed hash of each live key (ApiKeyCreated, deleted
# by ApiKeyDeleted), unique so a presented key is one probe.
api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", UUID(as_uuid=True), primary_key=True),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("name", String(100), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("expires_at", TS),
    Index("ix_api_keys_user", "user_id", "created_at"),
    Index("ux_api_keys_hash", "hash", unique=True),
)

# Not a read model: a key's last use, overwritten by TouchApiKey (no event per use).
api_key_last_used = Table(
    "api_key_last_used",
    metadata,
    Column("key_id", UUID(as_uuid=True), primary_key=True),
    Column("last_used_at", TS, nullable=False),
)

# Logged-out login tokens (TokenRevoked) with the time they would have expired.
revoked_tokens = Table(
    "revoked_tokens",
    metadata,
    Column("jti", String(64), primary_key=True),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("expires_at", TS, nullable=False),
    Index("ix_revoked_tokens_expires", "expires_at"),
)


def written(table: Table) -> list[Column[object]]:
    """The columns a row is written with: all but those PostgreSQL generates from the others
    (the search vectors), which replay's COPY and every INSERT leave out."""
    return [column for column in table.columns if column.computed is None]


READ_MODELS: tuple[Table, ...] = (
    users,
    projects,
    threads,
    user_thread_counts,
    messages,
    documents,
    provider_settings,
    task_routes,
    preferences,
    thread_summaries,
    shares,
    imported_sources,
    imports,
    import_items,
    usage_ledger,
    usage_daily,
    usage_monthly,
    model_prices,
    api_keys,
    revoked_tokens,
)

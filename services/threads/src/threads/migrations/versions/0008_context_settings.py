"""context windows: threads.context_window and context_policy, and the thread_summaries table

A thread may set its own context window (tokens; NULL: the model's) and what happens when its
history outgrows it (`truncate`, the default, or `summarize`). Rows written before read as the
defaults, which is what replay gives too: a thread without a ThreadContextConfigured event.
`thread_summaries` holds the summaries the `summary` task made (ThreadSummarized), each
covering the path from the root through `through_message_id`.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("threads", sa.Column("context_window", sa.Integer(), nullable=True))
    op.add_column(
        "threads",
        sa.Column("context_policy", sa.String(16), nullable=False, server_default="truncate"),
    )
    op.create_table(
        "thread_summaries",
        sa.Column("thread_id", sa.UUID(), nullable=False),
        sa.Column("through_message_id", sa.UUID(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("summarized_messages", sa.Integer(), nullable=False),
        sa.Column("usage", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("thread_id", "through_message_id"),
    )


def downgrade() -> None:
    op.drop_table("thread_summaries")
    op.drop_column("threads", "context_policy")
    op.drop_column("threads", "context_window")

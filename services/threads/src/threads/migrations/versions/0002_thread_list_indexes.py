"""thread list: per-user thread counts, trigram index for title search

The global thread list answers `total` from `user_thread_counts` (kept by the threads
projection) instead of counting up to 100,000 rows per request, and searches titles through a
pg_trgm GIN index instead of scanning every thread of the user.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 19:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index(
        "ix_threads_title_trgm",
        "threads",
        ["title"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"title": "gin_trgm_ops"},
    )
    op.create_table(
        "user_thread_counts",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("thread_count", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_thread_counts")),
    )
    # Backfill from the read model as it stands (replay rebuilds it from the events).
    op.execute(
        "INSERT INTO user_thread_counts (user_id, thread_count)"
        " SELECT user_id, count(*) FROM threads GROUP BY user_id"
    )


def downgrade() -> None:
    op.drop_table("user_thread_counts")
    op.drop_index("ix_threads_title_trgm", table_name="threads", postgresql_using="gin")
    # pg_trgm stays: other objects may use it, and keeping an extension is harmless.

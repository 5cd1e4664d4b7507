"""conversation tree: messages.parent_id, threads.active_leaf_id and forked_from

Every message names its parent and every thread its active leaf. Rows written before read as
the chain they were: each message's parent is the one before it in the thread (by `seq`), the
last message is the active leaf. This is the backfill replay also gives, from the events
upcast as chained (`threads.store.upcasters`).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("threads", sa.Column("active_leaf_id", sa.UUID(), nullable=True))
    op.add_column("threads", sa.Column("forked_from_thread_id", sa.UUID(), nullable=True))
    op.add_column("threads", sa.Column("forked_from_message_id", sa.UUID(), nullable=True))
    op.add_column("messages", sa.Column("parent_id", sa.UUID(), nullable=True))
    op.execute(
        "UPDATE messages AS m SET parent_id = c.parent_id FROM ("
        " SELECT id, lag(id) OVER (PARTITION BY thread_id ORDER BY seq) AS parent_id"
        " FROM messages) AS c WHERE m.id = c.id AND c.parent_id IS NOT NULL"
    )
    op.execute(
        "UPDATE threads AS t SET active_leaf_id = ("
        " SELECT m.id FROM messages AS m WHERE m.thread_id = t.id ORDER BY m.seq DESC LIMIT 1)"
    )
    op.create_index("ix_messages_thread_parent_seq", "messages", ["thread_id", "parent_id", "seq"])
    op.create_index(
        "ix_messages_streaming",
        "messages",
        ["thread_id"],
        postgresql_where=sa.text("status = 'streaming'"),
    )


def downgrade() -> None:
    op.drop_index("ix_messages_streaming", table_name="messages")
    op.drop_index("ix_messages_thread_parent_seq", table_name="messages")
    op.drop_column("messages", "parent_id")
    op.drop_column("threads", "forked_from_message_id")
    op.drop_column("threads", "forked_from_thread_id")
    op.drop_column("threads", "active_leaf_id")

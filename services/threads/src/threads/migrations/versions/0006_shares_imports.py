"""shares and imports: share links, the imported-source map, import progress

`shares` holds each share link's snapshot of the active path (ThreadShared carries it);
`imported_sources` maps a user's source conversation to the thread it became
(ConversationImported), so importing it again returns that thread; `imports` and
`import_items` say how far an import got and what became of each conversation. All four are
read models: empty here, rebuilt by replay from the events.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 13:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "shares",
        sa.Column("share_id", sa.String(64), nullable=False),
        sa.Column("thread_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("messages", postgresql.JSONB(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("share_id", name=op.f("pk_shares")),
    )
    op.create_index("ix_shares_thread", "shares", ["thread_id"])
    op.create_table(
        "imported_sources",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("source_id", sa.String(255), nullable=False),
        sa.Column("thread_id", sa.UUID(), nullable=False),
        sa.Column("import_id", sa.UUID(), nullable=False),
        sa.Column("imported_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "source", "source_id", name=op.f("pk_imported_sources")),
    )
    op.create_table(
        "imports",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("handled", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
    )
    op.create_table(
        "import_items",
        sa.Column("import_id", sa.UUID(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(255), nullable=False),
        sa.Column("thread_id", sa.UUID(), nullable=True),
        sa.Column("title", sa.String(255), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("import_id", "seq", name=op.f("pk_import_items")),
    )


def downgrade() -> None:
    op.drop_table("import_items")
    op.drop_table("imports")
    op.drop_table("imported_sources")
    op.drop_index("ix_shares_thread", table_name="shares")
    op.drop_table("shares")

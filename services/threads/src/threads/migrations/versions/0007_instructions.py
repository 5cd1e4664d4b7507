"""instructions: projects.instructions and threads.instructions

A project and a thread may carry instructions for the model (text; NULL: none), composed into
the system prompt after the thread type's prompt. Rows written before read as NULL, which is
what replay gives too: events from before instructions existed carry none.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("projects", sa.Column("instructions", sa.Text(), nullable=True))
    op.add_column("threads", sa.Column("instructions", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("threads", "instructions")
    op.drop_column("projects", "instructions")

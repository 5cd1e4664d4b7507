"""message reasoning: messages.reasoning

The reasoning (thinking) text a provider streamed apart from the answer, kept beside
`content` and never sent back to a provider. Rows written before read as NULL, which is what
replay gives too: a completion event of an earlier version carries no reasoning.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("reasoning", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("messages", "reasoning")

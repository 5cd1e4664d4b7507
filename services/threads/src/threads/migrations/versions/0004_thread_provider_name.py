"""threads.provider: one name for the provider a thread is bound to

The read model called it `model_provider` while every other table, event and view said
`provider`. The HTTP contract keeps serving both names; the events carry `provider` from
ThreadCreated v3 on (older ones are upcast).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 13:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column("threads", "model_provider", new_column_name="provider")


def downgrade() -> None:
    op.alter_column("threads", "provider", new_column_name="model_provider")

"""usage ledger: usage_ledger and model_prices

`usage_ledger` holds provider-reported usage per user, UTC day, provider, model, project and
task (`chat`, `title`, `summary`), as counters the usage events add to. A row without a project
has `project_key` = the nil UUID: a primary key column cannot be NULL, and a sentinel keeps the
upsert a plain ON CONFLICT on the key. The key leads with (user_id, day), so one user's date
range (a quota's today or this month, GET /api/usage) is one index range scan; the index on
`day` serves reading every user's usage over a range (admin usage, grouped by user).

`model_prices` holds the prices an admin set (ModelPriceSet), over the built-in ones.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    counters = ("requests", "input_tokens", "output_tokens", "reasoning_tokens")
    op.create_table(
        "usage_ledger",
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("project_key", UUID(as_uuid=True), nullable=False),
        sa.Column("task", sa.String(16), nullable=False),
        *(sa.Column(c, sa.BigInteger(), nullable=False, server_default="0") for c in counters),
        sa.PrimaryKeyConstraint(
            "user_id", "day", "provider", "model", "project_key", "task", name="pk_usage_ledger"
        ),
    )
    op.create_index("ix_usage_ledger_day", "usage_ledger", ["day"])
    op.create_table(
        "model_prices",
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("input_usd_per_mtok", sa.Double(), nullable=False),
        sa.Column("output_usd_per_mtok", sa.Double(), nullable=False),
        sa.Column("reasoning_usd_per_mtok", sa.Double(), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provider", "model", name="pk_model_prices"),
    )


def downgrade() -> None:
    op.drop_table("model_prices")
    op.drop_index("ix_usage_ledger_day", table_name="usage_ledger")
    op.drop_table("usage_ledger")

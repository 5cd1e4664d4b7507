"""usage rollups: usage_daily and usage_monthly

Two rollups of `usage_ledger`, kept by the same usage events (`projections.usage`), so that
GET /api/usage over a year grouped by few keys reads a few hundred rows instead of every
ledger row: `usage_daily` per (user, day, provider, model), `usage_monthly` per (user, month,
provider, model, project, task), the month as its first day. Both are filled here from the
ledger as it stands, so a deployment reads right before any replay.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTERS = ("requests", "input_tokens", "output_tokens", "reasoning_tokens")


def _counters() -> list[sa.Column[object]]:
    return [sa.Column(c, sa.BigInteger(), nullable=False, server_default="0") for c in COUNTERS]


def _user_provider_model(date_column: str) -> list[sa.Column[object]]:
    return [
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column(date_column, sa.Date(), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "usage_daily",
        *_user_provider_model("day"),
        *_counters(),
        sa.PrimaryKeyConstraint("user_id", "day", "provider", "model", name="pk_usage_daily"),
    )
    op.create_index("ix_usage_daily_day", "usage_daily", ["day"])
    op.create_table(
        "usage_monthly",
        *_user_provider_model("month"),
        sa.Column("project_key", UUID(as_uuid=True), nullable=False),
        sa.Column("task", sa.String(16), nullable=False),
        *_counters(),
        sa.PrimaryKeyConstraint(
            "user_id", "month", "provider", "model", "project_key", "task", name="pk_usage_monthly"
        ),
    )
    op.create_index("ix_usage_monthly_month", "usage_monthly", ["month"])
    op.execute(
        "INSERT INTO usage_daily (user_id, day, provider, model, requests, input_tokens,"
        " output_tokens, reasoning_tokens)"
        " SELECT user_id, day, provider, model, sum(requests), sum(input_tokens),"
        " sum(output_tokens), sum(reasoning_tokens) FROM usage_ledger"
        " GROUP BY user_id, day, provider, model"
    )
    op.execute(
        "INSERT INTO usage_monthly (user_id, month, provider, model, project_key, task,"
        " requests, input_tokens, output_tokens, reasoning_tokens)"
        " SELECT user_id, date_trunc('month', day)::date AS month, provider, model,"
        " project_key, task, sum(requests), sum(input_tokens), sum(output_tokens),"
        " sum(reasoning_tokens) FROM usage_ledger"
        " GROUP BY user_id, month, provider, model, project_key, task"
    )


def downgrade() -> None:
    op.drop_index("ix_usage_monthly_month", table_name="usage_monthly")
    op.drop_table("usage_monthly")
    op.drop_index("ix_usage_daily_day", table_name="usage_daily")
    op.drop_table("usage_daily")

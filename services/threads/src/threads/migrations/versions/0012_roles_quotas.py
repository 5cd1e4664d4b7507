"""roles, disabling and quotas: users.role, users.disabled, users.tokens_per_day/_month

The users read model gains what UserRoleSet, UserDisabled/UserEnabled and UserQuotaSet say:
`role` (`admin` | `user`), `disabled`, and the two token quotas (NULL = unlimited). A partial
index on the admins keeps "is this the last admin" one small probe; `(created_at, id)` pages
the admin's user list by cursor.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("role", sa.String(16), nullable=False, server_default="user"))
    op.add_column(
        "users", sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("users", sa.Column("tokens_per_day", sa.BigInteger(), nullable=True))
    op.add_column("users", sa.Column("tokens_per_month", sa.BigInteger(), nullable=True))
    op.create_index("ix_users_admins", "users", ["id"], postgresql_where=sa.text("role = 'admin'"))
    op.create_index("ix_users_created", "users", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_users_created", table_name="users")
    op.drop_index("ix_users_admins", table_name="users")
    op.drop_column("users", "tokens_per_month")
    op.drop_column("users", "tokens_per_day")
    op.drop_column("users", "disabled")
    op.drop_column("users", "role")

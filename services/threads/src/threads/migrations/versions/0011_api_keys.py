"""api keys and revoked tokens: api_keys, api_key_last_used, revoked_tokens

`api_keys` is the read model of ApiKeyCreated/ApiKeyDeleted: a key's owner, name, shown
prefix, expiry and its keyed hash (HMAC-SHA256 with the gateway's secret, never the key), unique
so a presented key is one index probe. `api_key_last_used` is not a read model: the gateways
report a key's use at most once a minute and the threads service overwrites its one row, so no
event is written per request and replay leaves it alone. `revoked_tokens` holds the login
tokens logged out (TokenRevoked) with their expiry: the ones still in force are what a gateway
that starts late asks for.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("key_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=True),
    )
    op.create_index("ix_api_keys_user", "api_keys", ["user_id", "created_at"])
    op.create_index("ux_api_keys_hash", "api_keys", ["hash"], unique=True)
    op.create_table(
        "api_key_last_used",
        sa.Column("key_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("last_used_at", TS, nullable=False),
    )
    op.create_table(
        "revoked_tokens",
        sa.Column("jti", sa.String(64), primary_key=True),
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_index("ix_revoked_tokens_expires", "revoked_tokens", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_revoked_tokens_expires", table_name="revoked_tokens")
    op.drop_table("revoked_tokens")
    op.drop_table("api_key_last_used")
    op.drop_index("ux_api_keys_hash", table_name="api_keys")
    op.drop_index("ix_api_keys_user", table_name="api_keys")
    op.drop_table("api_keys")

"""What an admin reads, and what deciding an admin's change needs: users' rows, the enabled
admins, and each user's tokens of this UTC day and month from the usage ledger.

The acting user's role is read here, from the read model, on every request: a token carries
no role, so a revoked admin is no admin on the next request."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import case, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.queries import GetAdminUsage, ListUsers
from contracts.views import AdminUserPageView, AdminUserView, QuotaView, UserTokensView
from threads.domain import user
from threads.queries.threads import decode_cursor, encode_cursor
from threads.queries.usage import usage_of
from threads.store.tables import usage_ledger as ledger
from threads.store.tables import users


async def user_row(conn: AsyncConnection, user_id: UUID | None) -> Any:
    return (await conn.execute(select(users).where(users.c.id == user_id))).first()


async def enabled_admins(conn: AsyncConnection) -> int:
    return int(
        await conn.scalar(
            select(func.count())
            .select_from(users)
            .where(users.c.role == "admin", users.c.disabled.is_(False))
        )
        or 0
    )


def _spent() -> Any:
    return ledger.c.input_tokens + ledger.c.output_tokens


async def tokens_of(
    conn: AsyncConnection, user_ids: Iterable[UUID], today: date
) -> dict[UUID, UserTokensView]:
    """Each user's tokens (input + output) this UTC month and day: one range scan of the
    ledger's key (user_id, day, ...) per user."""
    month_start = today.replace(day=1)
    rows = await conn.execute(
        select(
            ledger.c.user_id,
            func.sum(case((ledger.c.day == today, _spent()), else_=0)),
            func.sum(_spent()),
        )
        .where(ledger.c.user_id.in_(list(user_ids)), ledger.c.day.between(month_start, today))
        .group_by(ledger.c.user_id)
    )
    return {
        r[0]: UserTokensView(tokens_today=int(r[1] or 0), tokens_this_month=int(r[2] or 0))
        for r in rows
    }


def admin_user_view(row: Any, tokens: UserTokensView | None) -> AdminUserView:
    return AdminUserView(
        id=row.id,
        email=row.email,
        display_name=row.display_name,
        role=row.role,
        disabled=row.disabled,
        quota=QuotaView(tokens_per_day=row.tokens_per_day, tokens_per_month=row.tokens_per_month),
        created_at=row.created_at,
        usage=tokens or UserTokensView(),
    )


async def require_admin(conn: AsyncConnection, actor_id: UUID | None) -> None:
    user.require_admin(await user_row(conn, actor_id))


async def list_users(
    conn: AsyncConnection, actor_id: UUID | None, q: ListUsers
) -> AdminUserPageView:
    await require_admin(conn, actor_id)
    stmt = select(users).order_by(users.c.created_at, users.c.id).limit(q.limit + 1)
    if q.cursor:
        at, ident = decode_cursor(q.cursor)
        stmt = stmt.where(tuple_(users.c.created_at, users.c.id) > tuple_(at, ident))
    rows = list(await conn.execute(stmt))
    more = len(rows) > q.limit
    rows = rows[: q.limit]
    tokens = await tokens_of(conn, [r.id for r in rows], datetime.now(UTC).date()) if rows else {}
    return AdminUserPageView(
        users=[admin_user_view(r, tokens.get(r.id)) for r in rows],
        next_cursor=encode_cursor(rows[-1].created_at, rows[-1].id) if more else None,
    )


async def admin_usage(
    conn: AsyncConnection, actor_id: UUID | None, q: GetAdminUsage
) -> dict[str, Any]:
    """Every user's usage as GET /api/usage sums it; grouped by `user`, each row also names
    the user's email (one probe of the users' keys)."""
    await require_admin(conn, actor_id)
    reply = await usage_of(conn, q.group_by, q.start, q.end, only=None)
    if "user" in q.group_by and reply["rows"]:
        ids = {UUID(r["user"]) for r in reply["rows"]}
        found = await conn.execute(select(users.c.id, users.c.email).where(users.c.id.in_(ids)))
        emails = {str(i): e for i, e in found}
        for row in reply["rows"]:
            row["email"] = emails.get(row["user"])
    return reply

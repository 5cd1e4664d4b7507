"""Admin endpoints: every user (paged, with this day's and month's tokens), an admin's change
of one (role, disabled, quota). Whether the caller is an admin the threads service decides
from its read model on each request (non-admins: 403); a token carries no role."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import orjson
from fastapi import APIRouter, Depends, Query, Response

from contracts.commands import UpdateUser
from contracts.queries import ADMIN_USAGE_GROUP_KEYS, GetAdminUsage, ListUsers
from contracts.views import AdminUsageView, AdminUserPageView, AdminUserView
from gateway.api.responses import Responses, error, not_found
from gateway.api.usage import DATE_RANGE, Asked, asked_range
from gateway.deps import BusDep, Meta, Send
from gateway.schemas import AdminUserPatch

router = APIRouter(tags=["admin"])
FORBIDDEN: Responses = {403: error("The caller is not an admin")}


@router.get("/api/admin/users", response_model=AdminUserPageView, responses=FORBIDDEN)
async def list_users(
    bus: BusDep,
    meta: Meta,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=512, description="next_cursor of the previous page")
    ] = None,
) -> AdminUserPageView:
    """Oldest first; `usage` holds the tokens (input + output) of this UTC day and month."""
    return await bus.call(ListUsers(meta=meta, limit=limit, cursor=cursor))


@router.patch(
    "/api/admin/users/{user_id}",
    response_model=AdminUserView,
    responses={
        **FORBIDDEN,
        **not_found("user"),
        409: error("The change would leave the deployment without an enabled admin"),
    },
)
async def update_user(user_id: UUID, body: AdminUserPatch, send: Send) -> AdminUserView:
    """`quota` names only the quotas it changes (null: unlimited). The last enabled admin can
    be neither demoted nor disabled."""
    quota = body.quota.model_dump(include=body.quota.model_fields_set) if body.quota else None
    return await send(
        UpdateUser, user_id=user_id, role=body.role, disabled=body.disabled, quota=quota
    )


@router.get(
    "/api/admin/usage",
    response_model=AdminUsageView,
    response_model_exclude_unset=True,
    responses={**FORBIDDEN, 422: DATE_RANGE},
)
async def admin_usage(
    bus: BusDep,
    meta: Meta,
    asked: Annotated[Asked, Depends(asked_range(ADMIN_USAGE_GROUP_KEYS))],
) -> Response:
    """Every user's usage, shaped as GET /api/usage; `group_by` may add `user`, and a row then
    holds the user's id and email."""
    start, end, keys = asked
    view = await bus.call_raw(GetAdminUsage(meta=meta, start=start, end=end, group_by=keys))
    return Response(orjson.dumps(view), media_type="application/json")

"""Full-text search over the signed-in user's messages (every branch) and thread titles."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from contracts.queries import SearchMessages
from contracts.views import SearchPageView
from gateway.api.responses import not_found
from gateway.api.threads import BAD_CURSOR
from gateway.deps import BusDep, Meta
from gateway.storable import Text

router = APIRouter(tags=["search"])


@router.get(
    "/api/search",
    response_model=SearchPageView,
    responses={**BAD_CURSOR, **not_found("project")},
)
async def search(
    bus: BusDep,
    meta: Meta,
    q: Annotated[
        Text,
        Query(
            min_length=1,
            max_length=500,
            pattern=r"\S",
            description='words, "a phrase", `or`, -word; stemmed (glacier finds glaciers)',
        ),
    ],
    project_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        str | None, Query(max_length=500, description="next_cursor of the previous page")
    ] = None,
) -> SearchPageView:
    """Best match first; a title hit has `message_id` null. `snippet` is plain text (show it
    as text, never as HTML), `highlights` the [start, end) offsets in it, in code points, of
    the words that matched."""
    query = SearchMessages(meta=meta, q=q, project_id=project_id, limit=limit, cursor=cursor)
    return await bus.call(query)

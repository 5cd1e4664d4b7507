"""Full-text search over one user's messages (every branch) and thread titles.

The vectors are the generated `search` columns (migration 0005, which also defines how a query
is read: `search_query`). Ranking every match of a common word would read every matching row,
so the ranked candidates are bounded, in a way that bounds the rows read too. The user's newest
`WINDOW` messages are read backwards through `ix_messages_user_id_seq`, stopping at `candidates`
matches: a common word stops early, and when `ENOUGH` of them match they are the candidates
(no index probe, whose bitmap would hold every match of the word). Otherwise a probe through
the GIN index takes up to `PROBE` older matches, and the newest `candidates` of both are
ranked: all the matches when the probe found fewer, else the recent ones and some older ones.
Titles: the newest `candidates` matches. All are ranked together
(`ts_rank`, titles weighted above contents), best first.

The statement is prepared afresh each time, so PostgreSQL plans it for the words asked
(a cached generic plan would not see how common they are).

A cursor holds the last hit's place in that order (rank, time, id) and the bounds of the first
page (the newest message position and the time it was asked), so later pages rank the same
candidates.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.queries import SearchMessages
from contracts.views import SearchHitView, SearchPageView
from threads.domain.errors import invalid, not_found
from threads.replay.driver import driver_connection
from threads.store.tables import projects

PROBE, WINDOW, ENOUGH = 2000, 10_000, 50
START, STOP = "\ue000", "\ue001"  # private-use characters: no text of ours holds them
_OPTIONS = f"StartSel={START}, StopSel={STOP}, MaxWords=35, MinWords=15"
_TITLE_OPTIONS = f"StartSel={START}, StopSel={STOP}, HighlightAll=true"
_MARKERS = re.compile(f"([{START}{STOP}])")
# What a snippet is made from: the indexed part of the content, without our markers.
_DOC = "replace(replace(left({0}, 100000), E'\\uE000', ''), E'\\uE001', '')"


class Cursor(NamedTuple):
    rank: float
    created_at: datetime
    ident: UUID
    seq_bound: int
    time_bound: datetime


def encode_cursor(c: Cursor) -> str:
    raw = json.dumps(
        [c.rank, c.created_at.isoformat(), str(c.ident), c.seq_bound, c.time_bound.isoformat()]
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _aware(value: str) -> datetime:
    when = datetime.fromisoformat(value)
    if when.tzinfo is None:
        raise ValueError("naive time")
    return when.astimezone(UTC)


def decode_cursor(cursor: str) -> Cursor:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        rank, at, ident, seq_bound, time_bound = json.loads(raw)
        if not isinstance(rank, int | float) or not isinstance(seq_bound, int):
            raise TypeError("not a number")
        return Cursor(float(rank), _aware(at), UUID(ident), seq_bound, _aware(time_bound))
    except (ValueError, TypeError, AttributeError, OverflowError) as exc:
        raise invalid("Invalid cursor") from exc


# $1 query text, $2 user, $3 candidates, $4 message bound, $5 time bound, $6 page size plus
# one, $7 project or NULL, $8..$10 the cursor's rank, time and id or NULLs, $11/$12 headline
# options, $13 the probe's limit, $14 the newest messages read first, $15 how many matches
# among them are enough. A NULL's condition folds away when PostgreSQL plans the statement
# for its values; a condition on a CTE's single row gates a whole scan (never executed).
_SEARCH = f"""
WITH recent AS MATERIALIZED (
  SELECT r.id, r.thread_id, r.role, r.created_at, r.seq, r.search
  FROM (SELECT m.id, m.thread_id, m.role, m.created_at, m.seq, m.search FROM messages AS m
        WHERE m.user_id = $2 AND m.seq <= $4 ORDER BY m.seq DESC LIMIT $14) AS r
  WHERE r.search @@ search_query($1)
    AND ($7::uuid IS NULL
         OR r.thread_id IN (SELECT id FROM threads WHERE user_id = $2 AND project_id = $7))
  ORDER BY r.seq DESC LIMIT $3
), enough AS (
  SELECT count(*) >= $15 AS yes FROM recent
), probe AS MATERIALIZED (
  SELECT m.id, m.thread_id, m.role, m.created_at, m.seq, m.search FROM messages AS m
  WHERE NOT (SELECT yes FROM enough)
    AND m.user_id = $2 AND m.search @@ search_query($1) AND m.seq <= $4
    AND m.id NOT IN (SELECT id FROM recent)
    AND ($7::uuid IS NULL
         OR m.thread_id IN (SELECT id FROM threads WHERE user_id = $2 AND project_id = $7))
  LIMIT $13
), hits AS (
  (SELECT id, id AS message_id, thread_id, role, created_at, seq, search
   FROM recent WHERE (SELECT yes FROM enough))
  UNION ALL
  (SELECT id, id, thread_id, role, created_at, seq, search
   FROM (SELECT * FROM recent UNION ALL SELECT * FROM probe) AS few
   WHERE NOT (SELECT yes FROM enough) ORDER BY seq DESC LIMIT $3)
  UNION ALL
  (SELECT t.id, NULL, t.id, NULL, t.created_at, NULL, t.search
   FROM threads AS t
   WHERE t.user_id = $2 AND t.search @@ search_query($1) AND t.created_at <= $5
     AND ($7::uuid IS NULL OR t.project_id = $7)
   ORDER BY t.created_at DESC LIMIT $3)
), ranked AS (
  SELECT id, message_id, thread_id, role, created_at, seq,
         ts_rank(search, search_query($1), 1) AS rank
  FROM hits
), page AS (
  SELECT * FROM ranked
  WHERE $8::real IS NULL
     OR (rank, created_at, id) < ($8::real, $9::timestamptz, $10::uuid)
  ORDER BY rank DESC, created_at DESC, id DESC LIMIT $6
)
SELECT p.id, p.message_id, p.thread_id, p.role, p.created_at, p.rank, t.title,
       (SELECT max(seq) FROM hits) AS newest,
       CASE WHEN p.message_id IS NULL
            THEN ts_headline('english', {_DOC.format("t.title")}, search_query($1), $11)
            ELSE ts_headline('english', {_DOC.format("m.content")}, search_query($1), $12)
       END AS headline
FROM page AS p
JOIN threads AS t ON t.id = p.thread_id
LEFT JOIN messages AS m ON m.id = p.message_id
ORDER BY p.rank DESC, p.created_at DESC, p.id DESC
"""  # noqa: S608 - a constant: every value is a parameter


def marked(headline: str) -> tuple[str, list[tuple[int, int]]]:
    """The headline as plain text and the [start, end) offsets of its marked words."""
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    length, start = 0, None
    for token in _MARKERS.split(headline):
        if token == START:
            start = length
        elif token == STOP:
            if start is not None and length > start:
                spans.append((start, length))
            start = None
        else:
            parts.append(token)
            length += len(token)
    text = "".join(parts)
    lead = len(text) - len(text.lstrip())
    text = text.strip()
    spans = [(max(a - lead, 0), min(b - lead, len(text))) for a, b in spans]
    return text, [(a, b) for a, b in spans if b > a]


async def search(
    conn: AsyncConnection,
    user_id: UUID,
    q: SearchMessages,
    *,
    candidates: int,
    window: int = WINDOW,
    probe: int = PROBE,
    enough: int = ENOUGH,
) -> SearchPageView:
    if q.project_id is not None:
        mine = select(projects.c.id).where(
            projects.c.id == q.project_id, projects.c.user_id == user_id
        )
        if await conn.scalar(mine) is None:
            raise not_found("Project")
    cursor = decode_cursor(q.cursor) if q.cursor else None
    now = datetime.now(UTC)
    args = (
        q.q,
        user_id,
        candidates,
        cursor.seq_bound if cursor else 2**62,
        cursor.time_bound if cursor else now,
        q.limit + 1,
        q.project_id,
        cursor.rank if cursor else None,
        cursor.created_at if cursor else None,
        cursor.ident if cursor else None,
        _TITLE_OPTIONS,
        _OPTIONS,
        probe,
        window,
        min(enough, candidates),
    )
    driver = await driver_connection(conn)
    rows = await (await driver.prepare(_SEARCH)).fetch(*args)
    return _page(rows, q.limit, cursor, now)


def _page(rows: list[Any], limit: int, cursor: Cursor | None, now: datetime) -> SearchPageView:
    results = []
    for row in rows[:limit]:
        snippet, spans = marked(row["headline"] or "")
        results.append(
            SearchHitView(
                thread_id=row["thread_id"],
                thread_title=row["title"],
                message_id=row["message_id"],
                role=row["role"],
                snippet=snippet,
                highlights=spans,
                created_at=row["created_at"],
            )
        )
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        seq_bound = cursor.seq_bound if cursor else (rows[0]["newest"] or 0)
        time_bound = cursor.time_bound if cursor else now
        next_cursor = encode_cursor(
            Cursor(last["rank"], last["created_at"], last["id"], seq_bound, time_bound)
        )
    return SearchPageView(results=results, next_cursor=next_cursor)

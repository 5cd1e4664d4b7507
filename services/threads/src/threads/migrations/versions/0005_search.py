"""search: a full-text search vector on messages and thread titles, with GIN indexes

Each vector is a STORED generated column, so it follows its row wherever the row is written:
by the live projections (same transaction) and by replay's COPY into the shadow tables alike.
What a document and a query become is defined once, here, as SQL functions:

- `search_vector(text)`: English stems (`english`) plus every word exactly as written
  (`simple`, so German, French, ... words match in the same inflection), lowercased with
  Unicode rules (`pg_c_utf8`; the cluster's C locale lowercases ASCII only), plus the single
  characters and adjacent pairs of CJK runs (`search_cjk_grams`): Chinese, Japanese and Korean
  have no spaces for the word parser to split on. The first 100,000 characters are indexed
  (20,000 for the CJK grams), which keeps a vector far below PostgreSQL's 1 MB limit.
- `search_query(text)`: the same treatment of a user's query, through `websearch_to_tsquery`
  (quotes, `or`, `-word`; never a syntax error); a CJK run becomes all of its pairs.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# CJK: Han (with extension A and compatibility ideographs), kana, Hangul syllables.
CJK_GRAMS = r"""
CREATE FUNCTION search_cjk_grams(t text) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $f$
  SELECT coalesce(string_agg(DISTINCT '''' || g || '''', ' ')::tsvector, ''::tsvector)
  FROM regexp_matches(left(t, 20000), '[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+', 'g') AS m(r),
       generate_series(1, char_length(m.r[1])) AS i,
       LATERAL (VALUES (substr(m.r[1], i, 1)),
                       (CASE WHEN i < char_length(m.r[1]) THEN substr(m.r[1], i, 2) END)) AS v(g)
  WHERE g IS NOT NULL
$f$
"""

VECTOR = r"""
CREATE FUNCTION search_vector(t text) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $f$
  SELECT to_tsvector('english'::regconfig, d) || to_tsvector('simple'::regconfig, d)
         || CASE WHEN d ~ '[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]'
                 THEN search_cjk_grams(d) ELSE ''::tsvector END
  FROM (SELECT lower(left(t, 100000) COLLATE pg_c_utf8) AS d) AS s
$f$
"""

# A CJK run of one character is that character; a longer one, each adjacent pair.
QUERY = r"""
CREATE FUNCTION search_query(q text) RETURNS tsquery
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $f$
  SELECT CASE WHEN grams = '' THEN w ELSE w && plainto_tsquery('simple'::regconfig, grams) END
  FROM (
    SELECT websearch_to_tsquery('english'::regconfig, words)
           || websearch_to_tsquery('simple'::regconfig, words) AS w,
           coalesce((
             SELECT string_agg(CASE WHEN char_length(m.r[1]) = 1 THEN m.r[1]
                                    ELSE substr(m.r[1], i, 2) END, ' ')
             FROM regexp_matches(d, '[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+', 'g') AS m(r),
                  generate_series(1, greatest(char_length(m.r[1]) - 1, 1)) AS i), '') AS grams
    FROM (SELECT d, regexp_replace(d, '[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+', ' ', 'g') AS words
          FROM (SELECT lower(q COLLATE pg_c_utf8) AS d) AS l) AS s) AS parts
$f$
"""


def upgrade() -> None:
    # GIN over (user_id, vector): one index scan finds one user's matches only.
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.execute(CJK_GRAMS)
    op.execute(VECTOR)
    op.execute(QUERY)
    for table, vector in (
        ("messages", "search_vector(content)"),
        ("threads", "setweight(search_vector(title), 'A')"),
    ):
        generated = sa.Computed(vector, persisted=True)
        op.add_column(table, sa.Column("search", sa.dialects.postgresql.TSVECTOR(), generated))
    op.create_index(
        "ix_messages_user_id_search", "messages", ["user_id", "search"], postgresql_using="gin"
    )
    op.create_index("ix_messages_user_id_seq", "messages", ["user_id", "seq"])
    op.create_index(
        "ix_threads_user_id_search", "threads", ["user_id", "search"], postgresql_using="gin"
    )


def downgrade() -> None:
    op.drop_index("ix_threads_user_id_search", table_name="threads", postgresql_using="gin")
    op.drop_index("ix_messages_user_id_seq", table_name="messages")
    op.drop_index("ix_messages_user_id_search", table_name="messages", postgresql_using="gin")
    op.drop_column("threads", "search")
    op.drop_column("messages", "search")
    op.execute("DROP FUNCTION search_query(text)")
    op.execute("DROP FUNCTION search_vector(text)")
    op.execute("DROP FUNCTION search_cjk_grams(text)")
    # btree_gin stays, like pg_trgm: keeping an extension is harmless.

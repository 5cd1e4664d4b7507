"""Row-by-row comparison of the shadow read models with the live ones (`replay --check`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from threads.replay.shadow import SHADOW
from threads.store.tables import READ_MODELS, written


@dataclass
class Difference:
    table: str
    side: str  # "live only" or "rebuilt only"
    row: dict[str, Any]


async def compare(conn: AsyncConnection, limit_per_table: int = 50) -> list[Difference]:
    diffs: list[Difference] = []
    for table in READ_MODELS:
        cols = ", ".join(f'"{c.name}"' for c in written(table))  # generated: follow
        for side, left, right in (
            ("live only", "public", SHADOW),
            ("rebuilt only", SHADOW, "public"),
        ):
            rows = (
                (
                    await conn.execute(
                        text(
                            f'SELECT {cols} FROM {left}."{table.name}" EXCEPT ALL '  # noqa: S608
                            f'SELECT {cols} FROM {right}."{table.name}" LIMIT {limit_per_table}'
                        )
                    )
                )
                .mappings()
                .all()
            )
            diffs.extend(Difference(table.name, side, dict(r)) for r in rows)
    return diffs

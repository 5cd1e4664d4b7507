"""Read models `task_routes` and `preferences`: the user's routes replaced as a whole, and
whether the title task uses its own model (`use_separate_models`)."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from threads.projections import ProjectionFn
from threads.store.event_store import StoredEvent
from threads.store.tables import preferences, task_routes


async def task_routes_set(conn: AsyncConnection, event: StoredEvent) -> None:
    d = event.data
    user_id = d["user_id"]
    await conn.execute(task_routes.delete().where(task_routes.c.user_id == user_id))
    if d["routes"]:
        await conn.execute(
            task_routes.insert(),
            [
                {
                    "user_id": user_id,
                    "task": r["task"],
                    "provider": r["provider"],
                    "model": r["model"],
                }
                for r in d["routes"]
            ],
        )
    stmt = pg_insert(preferences).values(
        user_id=user_id, use_separate_models=d["use_separate_models"]
    )
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[preferences.c.user_id],
            set_={"use_separate_models": d["use_separate_models"]},
        )
    )


HANDLERS: dict[str, ProjectionFn] = {"TaskRoutesSet": task_routes_set}

"""Read models of imports: `imported_sources`, the idempotency map (which thread each of a
user's source conversations became, kept after the thread is deleted so a later import can
tell), and `imports` with `import_items`, how far each import got and what became of each
conversation of its file.
"""

from __future__ import annotations

from threads.projections.changes import Changes, Definition, Event
from threads.store.tables import import_items, imported_sources, imports


def conversation_imported(out: Changes, event: Event) -> None:
    d = event.data
    row = {
        "user_id": d["user_id"],
        "source": d["source"],
        "source_id": d["source_id"],
        "thread_id": d["thread_id"],
        "import_id": d["import_id"],
        "imported_at": event.recorded_at,
    }
    again = {"thread_id": d["thread_id"], "import_id": d["import_id"]}
    out.upsert(imported_sources, row, set={**again, "imported_at": event.recorded_at})


def import_started(out: Changes, event: Event) -> None:
    d, at = event.data, event.recorded_at
    row = {
        "id": d["import_id"],
        "user_id": d["user_id"],
        "source": d["source"],
        "total": d["total"],
        "handled": 0,
        "created_at": at,
        "updated_at": at,
    }
    out.insert(imports, row)


def batch_recorded(out: Changes, event: Event) -> None:
    d = event.data
    for item in d["items"]:
        row = {
            "import_id": d["import_id"],
            "seq": item["seq"],
            "source_id": item["source_id"],
            "thread_id": item.get("thread_id"),
            "title": item.get("title"),
            "reason": item.get("reason"),
        }
        out.insert(import_items, row)
    moved = {"updated_at": event.recorded_at}
    out.update(imports, d["import_id"], set=moved, add={"handled": len(d["items"])})


CHANGES: Definition = {
    "ConversationImported": conversation_imported,
    "ImportStarted": import_started,
    "ImportBatchRecorded": batch_recorded,
}

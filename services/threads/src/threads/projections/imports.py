"""Read models of imports: `imported_sources`, the idempotency map (which thread each of a
user's source conversations became, kept after the thread is deleted so a later import can
tell), and `imports` with `import_items`, how far each import got and what became of each
conversation of its file.
"""

from __future__ import annotations

from threads.projections.changes import Changes, Definition, Event, fields
from threads.store.tables import import_items, imported_sources, imports


def conversation_imported(out: Changes, event: Event) -> None:
    d = event.data
    again = {**fields(d, "thread_id", "import_id"), "imported_at": event.recorded_at}
    out.upsert(
        imported_sources, {**fields(d, "user_id", "source", "source_id"), **again}, set=again
    )


def import_started(out: Changes, event: Event) -> None:
    d, at = event.data, event.recorded_at
    row = {"id": d["import_id"], **fields(d, "user_id", "source", "total"), "handled": 0}
    out.insert(imports, {**row, "created_at": at, "updated_at": at})


def batch_recorded(out: Changes, event: Event) -> None:
    d = event.data
    for item in d["items"]:
        row = fields(item, "seq", "source_id", maybe=("thread_id", "title", "reason"))
        out.insert(import_items, {"import_id": d["import_id"], **row})
    moved = {"updated_at": event.recorded_at}
    out.update(imports, d["import_id"], set=moved, add={"handled": len(d["items"])})


CHANGES: Definition = {
    "ConversationImported": conversation_imported,
    "ImportStarted": import_started,
    "ImportBatchRecorded": batch_recorded,
}

"""ImportConversations → for each conversation of the batch not imported before, a thread
(ThreadCreated, MessagePosted below each parent, ActiveLeafSet, DocumentAdded) and its claim
(ConversationImported); then ImportBatchRecorded on the import's stream (the first batch
starts it with ImportStarted). One batch is one transaction: all of it or nothing.

A conversation this user imported before answers with that thread while it is there; two
imports racing for one conversation meet on its claim stream's version, and the rerun finds
the winner's thread.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, select

from contracts.commands import ImportConversations
from contracts.events import ImportBatchRecorded, ImportedItem, ImportStarted
from contracts.replies import Reply
from contracts.views import ImportedThreadView, ImportResultView, SkippedConversationView
from threads.domain import document, imports, thread
from threads.domain.errors import conflict, not_found
from threads.store.ownership import require_project
from threads.store.tables import imported_sources, threads
from threads.store.unit_of_work import HandlerContext


async def _already(ctx: HandlerContext[ImportConversations], user_id: Any) -> dict[str, Any]:
    """source id → (thread id, title) of this batch's conversations whose thread is there."""
    cmd = ctx.command
    ids = [c.source_id for c in cmd.conversations]
    rows = await ctx.conn.execute(
        select(imported_sources.c.source_id, threads.c.id, threads.c.title)
        .join(threads, threads.c.id == imported_sources.c.thread_id)
        .where(
            and_(
                imported_sources.c.user_id == user_id,
                imported_sources.c.source == cmd.source,
                imported_sources.c.source_id.in_(ids),
            )
        )
    )
    return {r.source_id: r for r in rows}


async def handle(
    ctx: HandlerContext[ImportConversations], *, default_provider: str, max_document_bytes: int
) -> Reply:
    cmd = ctx.command
    user_id = cmd.meta.user_id
    if user_id is None:
        raise not_found("User")
    if cmd.project_id is not None:
        await require_project(ctx.conn, user_id, cmd.project_id)
    stream = imports.import_stream(cmd.import_id)
    version, stored = await ctx.load(stream)
    started = [e.to_domain() for e in stored if e.type == "ImportStarted"]
    if started and started[0].user_id != user_id:  # type: ignore[attr-defined]
        raise not_found("Import")
    if cmd.first and not started:
        start = ImportStarted(
            import_id=cmd.import_id, user_id=user_id, source=cmd.source, total=cmd.total
        )
        version = (await ctx.append(stream, version, [start]))[-1].version
    elif not started:
        raise conflict("This import has not been started")
    # A batch sent again (its first try timed out at the gateway, then committed) adds nothing.
    recorded = {
        i["seq"] for e in stored if e.type == "ImportBatchRecorded" for i in e.data["items"]
    }
    found = await _already(ctx, user_id)
    items: list[ImportedItem] = []
    result = ImportResultView(threads=[], skipped=[])
    for conv in cmd.conversations:
        if conv.skip is not None:
            items.append(imports.skipped(conv))
            result.skipped.append(
                SkippedConversationView(source_id=conv.source_id, reason=conv.skip)
            )
            continue
        earlier = found.get(conv.source_id)
        if earlier is not None:
            thread_id, title = earlier.id, earlier.title
        else:
            thread_id, events, documents, claim = imports.decide_conversation(
                cmd,
                conv,
                user_id=user_id,
                default_provider=default_provider,
                max_document_bytes=max_document_bytes,
            )
            title = events[0].title  # type: ignore[attr-defined]
            claim_stream = imports.source_stream(user_id, cmd.source, conv.source_id)
            claimed, _ = await ctx.load(claim_stream)
            await ctx.append(thread.stream_id(thread_id), 0, events)
            for doc in documents:
                await ctx.append(document.stream_id(doc.document_id), 0, [doc])
            await ctx.append(claim_stream, claimed, [claim])
        items.append(imports.item(conv, thread_id, title))
        result.threads.append(
            ImportedThreadView(id=thread_id, title=title, source_id=conv.source_id)
        )
    new = [i for i in items if i.seq not in recorded]
    if new:
        await ctx.append(stream, version, [ImportBatchRecorded(import_id=cmd.import_id, items=new)])
    return Reply.success(result.model_dump(mode="json"))

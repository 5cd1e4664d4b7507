"""The prompt of one answer: the system prompt and the history, exactly as a provider gets them.

The system prompt is these blocks, in this order, separated by a blank line (a block that is
empty or absent is left out, with its separator):

1. the thread type's prompt (`SYSTEM_PROMPTS`; an unknown type gets `assistant`'s);
2. the project's instructions (the thread's project, when it has any);
3. the thread's instructions;
4. this answer's own instructions (the `system`/`developer` messages of a `/v1` request,
   joined by a blank line, in their order);
5. the documents: `DOCUMENTS_INTRO`, then each `<document name="...">` with its text, the
   thread's first, then the project's, at most `max_chars` characters of text in all.

Instructions are sent as written, less surrounding whitespace: nothing is added to them.
Each adapter puts the system prompt where its API wants it (Anthropic `system`, Chat
Completions a first `system` message, Gemini `system_instruction`).

History is normalised for every provider alike: it starts with a user turn, and consecutive
turns of one role are merged (Anthropic and Gemini require alternation; the others do not mind).
"""

from __future__ import annotations

from collections.abc import Sequence

from chat_worker.providers.base import ChatMessage
from contracts.views import ChatContextView, DocumentTextView

SYSTEM_PROMPTS = {
    "ba_assistant": (
        "You are an experienced business analyst assistant. Help the user elicit, clarify and "
        "document requirements: ask focused questions when something is ambiguous, identify "
        "stakeholders, assumptions, risks and acceptance criteria, and structure answers as "
        "user stories, process descriptions or tables when that helps. Be concise and precise."
    ),
    "assistant": (
        "You are a helpful, knowledgeable general-purpose assistant. Answer accurately and "
        "concisely, say so when you are unsure, and use Markdown when it helps readability."
    ),
}
DOCUMENTS_INTRO = (
    "The user has shared the following documents. Use them when they are relevant, and say "
    "which document you rely on."
)


def system_prompt(
    thread_type: str,
    documents: list[DocumentTextView],
    max_chars: int,
    instructions: Sequence[str | None] = (),
) -> str:
    """`instructions`: the project's, the thread's and the answer's, in that order."""
    base = SYSTEM_PROMPTS.get(thread_type, SYSTEM_PROMPTS["assistant"])
    blocks = [base, *(text.strip() for text in instructions if text and text.strip())]
    head = "\n\n".join(blocks)
    if not documents:
        return head
    parts = [head, "", DOCUMENTS_INTRO]
    budget = max_chars
    for doc in documents:
        if budget <= 0:
            parts.append("(further documents omitted: too long)")
            break
        text = doc.content[:budget]
        budget -= len(text)
        parts.append(f'<document name="{doc.filename}">\n{text}\n</document>')
    return "\n".join(parts)


def normalise(history: list[ChatMessage]) -> list[ChatMessage]:
    merged: list[ChatMessage] = []
    for message in history:
        if not message.content:
            continue
        if not merged and message.role != "user":
            continue
        if merged and merged[-1].role == message.role:
            merged[-1] = ChatMessage(message.role, f"{merged[-1].content}\n\n{message.content}")
        else:
            merged.append(message)
    return merged


def build_prompt(
    ctx: ChatContextView, max_document_chars: int, instructions: str | None = None
) -> tuple[str, list[ChatMessage]]:
    """`instructions`: this answer's own (`AssistantMessageRequested.instructions`)."""
    layers = (ctx.project_instructions, ctx.thread.instructions, instructions)
    system = system_prompt(ctx.thread.thread_type, ctx.documents, max_document_chars, layers)
    history = normalise([ChatMessage(m.role, m.content) for m in ctx.history])
    return system, history

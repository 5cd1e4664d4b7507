"""The prompt of one answer: the thread type's system prompt, the documents, the history.

History is normalised for every provider alike: it starts with a user turn, and consecutive
turns of one role are merged (Anthropic and Gemini require alternation; the others do not mind).
"""

from __future__ import annotations

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


def system_prompt(thread_type: str, documents: list[DocumentTextView], max_chars: int) -> str:
    base = SYSTEM_PROMPTS.get(thread_type, SYSTEM_PROMPTS["assistant"])
    if not documents:
        return base
    parts = [base, "", DOCUMENTS_INTRO]
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


def build_prompt(ctx: ChatContextView, max_document_chars: int) -> tuple[str, list[ChatMessage]]:
    system = system_prompt(ctx.thread.thread_type, ctx.documents, max_document_chars)
    history = normalise([ChatMessage(m.role, m.content) for m in ctx.history])
    return system, history

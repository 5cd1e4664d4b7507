"""ChatGPT's conversations.json: a list of conversations, each a `mapping` of nodes
{id, parent, children, message{author{role}, content{content_type, parts}, create_time}},
`current_node` the active leaf.

Kept: user and assistant messages with text (`text`, `multimodal_text`). System and tool
nodes, assistant messages addressed to a tool (`recipient` other than `all`), hidden nodes,
other content types and empty messages are left out, and their children hang from the nearest
kept ancestor, so the tree stays a tree. A part that is not text (an image, a file) becomes a
placeholder such as `[image]`, named in `metadata.imported.placeholders`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from contracts.commands import ImportConversation, ImportMessage
from gateway.imports.problems import ImportProblem, at

TEXT_TYPES = ("text", "multimodal_text")
ROLES = ("user", "assistant")
MAX_ID = 255


def _time(value: Any) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC).isoformat()
        except (OverflowError, OSError, ValueError):
            return None
    return None


def _placeholder(part: dict[str, Any]) -> str:
    kind = str(part.get("content_type") or "attachment")
    return "[image]" if "image" in kind else f"[{kind}]"


def _text(conv_id: str, node_id: str, message: dict[str, Any]) -> tuple[str, list[str]] | None:
    """(text, placeholders) of a message worth keeping, else None."""
    content = message.get("content")
    if content is None:
        return None
    if not isinstance(content, dict):
        raise ImportProblem(f"{at(conv_id, node_id)}: message.content is not an object")
    if content.get("content_type") not in TEXT_TYPES:
        return None
    parts = content.get("parts", [])
    if not isinstance(parts, list):
        raise ImportProblem(f"{at(conv_id, node_id)}: message.content.parts is not a list")
    texts: list[str] = []
    placeholders: list[str] = []
    for part in parts:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, dict):
            marker = _placeholder(part)
            placeholders.append(marker)
            texts.append(marker)
        elif part is not None:
            raise ImportProblem(f"{at(conv_id, node_id)}: a part is neither text nor an object")
    text = "\n".join(texts)
    return (text, placeholders) if text.strip() else None


def _kept(conv_id: str, node_id: str, node: dict[str, Any]) -> ImportMessage | None:
    message = node.get("message")
    if message is None:
        return None
    if not isinstance(message, dict):
        raise ImportProblem(f"{at(conv_id, node_id)}: message is not an object")
    author = message.get("author")
    role = author.get("role") if isinstance(author, dict) else None
    if not isinstance(role, str):
        raise ImportProblem(f"{at(conv_id, node_id)}: message has no author.role")
    meta: dict[str, Any] = message.get("metadata") or {}
    if not isinstance(meta, dict):
        meta = {}
    if role not in ROLES or message.get("recipient", "all") != "all":
        return None
    if meta.get("is_visually_hidden_from_conversation"):
        return None
    found = _text(conv_id, node_id, message)
    if found is None:
        return None
    text, placeholders = found
    imported: dict[str, Any] = {
        "source": "chatgpt",
        "id": node_id,
        "created_at": _time(message.get("create_time")),
    }
    if placeholders:
        imported["placeholders"] = placeholders
    model = meta.get("model_slug")
    return ImportMessage(
        ref=node_id,
        role=role,  # type: ignore[arg-type]
        content=text,
        metadata={"imported": imported},
        model=model if isinstance(model, str) else None,
    )


def _conversation_id(n: int, conv: Any) -> str:
    if not isinstance(conv, dict):
        raise ImportProblem(f"conversation #{n} is not an object")
    ident = conv.get("conversation_id") or conv.get("id")
    if not isinstance(ident, str) or not ident or len(ident) > MAX_ID:
        raise ImportProblem(f"conversation #{n} has no id (conversation_id or id)")
    return ident


def read_conversation(n: int, conv: Any) -> ImportConversation:
    conv_id = _conversation_id(n, conv)
    mapping = conv.get("mapping")
    if not isinstance(mapping, dict):
        raise ImportProblem(f"{at(conv_id)}: mapping is not an object")
    children: dict[str | None, list[str]] = {}
    for node_id, node in mapping.items():
        if not isinstance(node, dict):
            raise ImportProblem(f"{at(conv_id, node_id)}: the node is not an object")
        if len(node_id) > MAX_ID:
            raise ImportProblem(f"{at(conv_id, node_id[:40])}: the node id is too long")
        parent = node.get("parent")
        if parent is not None and (not isinstance(parent, str) or parent not in mapping):
            raise ImportProblem(f"{at(conv_id, node_id)}: its parent {parent!r} is not in mapping")
        children.setdefault(parent, []).append(node_id)
    messages: list[ImportMessage] = []
    kept_above: dict[str, str | None] = {}
    pending: list[tuple[str, str | None]] = [(r, None) for r in reversed(children.get(None, []))]
    while pending:  # depth first from the roots, parents before children
        node_id, above = pending.pop()
        message = _kept(conv_id, node_id, mapping[node_id])
        if message is not None:
            messages.append(message.model_copy(update={"parent_ref": above}))
            above = node_id
        kept_above[node_id] = above
        pending.extend((c, above) for c in reversed(children.get(node_id, [])))
    if len(kept_above) != len(mapping):
        lost = next(n for n in mapping if n not in kept_above)
        raise ImportProblem(f"{at(conv_id, lost)}: the node is in a cycle, not under a root")
    current = conv.get("current_node")
    if current is not None and (not isinstance(current, str) or current not in mapping):
        raise ImportProblem(f"{at(conv_id)}: current_node {current!r} is not in mapping")
    title = conv.get("title") if isinstance(conv.get("title"), str) else None
    return ImportConversation(
        seq=n,
        source_id=conv_id,
        title=(title or "").strip() or "Imported chat",
        messages=messages,
        active_ref=kept_above.get(current) if current else None,
        skip=None if messages else "no user or assistant text in it",
    )


def read(data: list[Any]) -> list[ImportConversation]:
    return [read_conversation(n, conv) for n, conv in enumerate(data)]

"""Server-sent events → JSON objects, for adapters that read a stream's frames themselves.

Only `data:` lines matter to the APIs we read (OpenAI-style streams); `[DONE]` ends the stream.
Bytes are split by hand: cheaper per chunk than a general SSE decoder.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson


async def sse_json(chunks: AsyncIterator[bytes]) -> AsyncIterator[dict[str, Any]]:
    buffer = b""
    async for chunk in chunks:
        buffer += chunk
        if b"\n" not in chunk:
            continue
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            if not line.startswith(b"data:"):
                continue
            data = line[5:].strip()
            if data == b"[DONE]":
                return
            if data:
                decoded = orjson.loads(data)
                if isinstance(decoded, dict):
                    yield decoded

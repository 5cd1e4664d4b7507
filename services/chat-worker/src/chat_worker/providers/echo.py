"""The built-in offline provider: deterministic, no key, no network.

The answer repeats the user's last message, streamed word by word: model `echo` as fast as the
event loop allows, `echo-slow` with 50 ms between words (for trying reconnects and cancels by
hand, and for the tests that kill a worker mid-answer).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

from chat_worker.providers.base import (
    ChatRequest,
    Delta,
    ModelInfo,
    ProviderCredentials,
    StreamResult,
)

MODELS = (ModelInfo("echo", "Echo"), ModelInfo("echo-slow", "Echo (slow, 50 ms per word)"))
SLOW_DELAY = 0.05
_WORDS = re.compile(r"\s*\S+")


def echo_words(text: str) -> list[str]:
    """`Echo: <text>` as words that keep their leading whitespace, so joining them gives the
    text back exactly."""
    return _WORDS.findall(f"Echo: {text}")


def echo_title(text: str, words: int = 6, limit: int = 60) -> str:
    """A deterministic title: the first few words of the first user message."""
    title = " ".join(text.split()[:words])[:limit].strip()
    return title or "Echo chat"


class EchoAdapter:
    name = "echo"

    async def stream_chat(
        self, creds: ProviderCredentials, chat: ChatRequest, result: StreamResult
    ) -> AsyncIterator[Delta]:
        last = next((m.content for m in reversed(chat.messages) if m.role == "user"), "")
        words = echo_words(last)
        delay = SLOW_DELAY if chat.model == "echo-slow" else 0.0
        for i, word in enumerate(words):
            if delay and i:
                await asyncio.sleep(delay)
            elif i % 32 == 0:
                await asyncio.sleep(0)  # stay cooperative on very long inputs
            yield Delta(word)
        result.finish_reason = "stop"
        result.usage = {
            "input_tokens": sum(len(m.content.split()) for m in chat.messages)
            + len(chat.system.split()),
            "output_tokens": len(words),
        }

    async def list_models(self, creds: ProviderCredentials) -> list[ModelInfo]:
        return list(MODELS)

    async def aclose(self) -> None:
        return None

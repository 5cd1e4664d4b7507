"""The provider registry: every provider Switchboard knows, in one place.

Thread creation, task routes, the provider settings and the chat worker all validate against
`PROVIDERS`. Pure data: no SDK is imported here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProviderInfo:
    name: str
    display_name: str
    default_model: str
    default_base_url: str | None
    needs_key: bool
    env_key: str | None  # the deployment-wide key variable, if the provider takes a key
    sdk: str  # which adapter speaks to it: anthropic, google, openai or echo


PROVIDERS: dict[str, ProviderInfo] = {
    p.name: p
    for p in (
        ProviderInfo(
            "anthropic",
            "Anthropic",
            "claude-sonnet-4-5",
            "https://api.anthropic.com",
            True,
            "ANTHROPIC_API_KEY",
            "anthropic",
        ),
        ProviderInfo(
            "google",
            "Google Gemini",
            "gemini-2.5-flash",
            "https://generativelanguage.googleapis.com",
            True,
            "GOOGLE_API_KEY",
            "google",
        ),
        ProviderInfo(
            "openai",
            "OpenAI",
            "gpt-4o-mini",
            "https://api.openai.com/v1",
            True,
            "OPENAI_API_KEY",
            "openai",
        ),
        ProviderInfo(
            "deepseek",
            "DeepSeek",
            "deepseek-chat",
            "https://api.deepseek.com/v1",
            True,
            "DEEPSEEK_API_KEY",
            "openai",
        ),
        ProviderInfo(
            "openrouter",
            "OpenRouter",
            "openrouter/auto",
            "https://openrouter.ai/api/v1",
            True,
            "OPENROUTER_API_KEY",
            "openai",
        ),
        ProviderInfo(
            "ollama", "Ollama", "llama3.2", "http://127.0.0.1:11434/v1", False, None, "openai"
        ),
        ProviderInfo("echo", "Echo (offline)", "echo", None, False, None, "echo"),
    )
}

PROVIDER_NAMES: tuple[str, ...] = tuple(sorted(PROVIDERS))
DEFAULT_PROVIDER = "anthropic"
ECHO_MODELS: tuple[str, ...] = ("echo", "echo-slow")

THREAD_TYPES: tuple[str, ...] = ("ba_assistant", "assistant")
DEFAULT_THREAD_TYPE = "ba_assistant"
TASKS: tuple[str, ...] = ("chat", "title", "summary")

# What a thread does when its history outgrows the context window: leave the oldest turns out,
# or fold them into a summary made by the `summary` task.
CONTEXT_POLICIES: tuple[str, ...] = ("truncate", "summarize")
DEFAULT_CONTEXT_POLICY = "truncate"

# Context windows (input tokens) of well-known models, for providers whose listing does not
# say (Anthropic, OpenAI, DeepSeek). Matched by prefix, the longest first; a `vendor/` prefix
# (OpenRouter's ids) is ignored. Figures as each vendor documents them.
KNOWN_CONTEXT_WINDOWS: dict[str, int] = {
    "claude-": 200_000,
    "gpt-4o": 128_000,
    "gpt-4.1": 1_047_576,
    "gpt-4-turbo": 128_000,
    "gpt-5": 400_000,
    "o1-mini": 128_000,
    "o1": 200_000,
    "o3": 200_000,
    "o4-mini": 200_000,
    "gemini-1.5-pro": 2_097_152,
    "gemini-": 1_048_576,
    "deepseek-chat": 128_000,
    "deepseek-reasoner": 128_000,
}
_BY_LENGTH = sorted(KNOWN_CONTEXT_WINDOWS, key=len, reverse=True)


def known_context_window(model: str) -> int | None:
    """The table's window for `model`, None when no prefix matches."""
    name = model.rpartition("/")[2].lower()
    return next((KNOWN_CONTEXT_WINDOWS[p] for p in _BY_LENGTH if name.startswith(p)), None)


def invalid_provider_detail() -> str:
    return f"Invalid provider. Valid options: {', '.join(PROVIDER_NAMES)}"

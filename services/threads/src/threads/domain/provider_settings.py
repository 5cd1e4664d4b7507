"""The provider-settings aggregate (stream `providers-<user id>`): each provider's config and
the user's task routes, in one stream so removing a provider and its routes is one append.

The API key itself is not state here: events carry only whether a key is set and its hint.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import reduce
from urllib.parse import urlsplit
from uuid import UUID

from contracts.base import DomainEvent
from contracts.commands import ConfigureProvider, SetTaskRoutes
from contracts.events import ProviderConfigured, ProviderRemoved, TaskRoute, TaskRoutesSet
from contracts.providers import PROVIDERS, TASKS, invalid_provider_detail
from threads.domain.errors import invalid, not_found

HINT_CHARS = 4
MIN_KEY_FOR_HINT = 12  # shorter keys get no hint: four characters would be too much of them


def stream_id(user_id: object) -> str:
    return f"providers-{user_id}"


@dataclass(frozen=True)
class ProviderConfig:
    base_url: str | None
    enabled: bool
    key_set: bool
    key_hint: str | None


@dataclass(frozen=True)
class ProviderSettingsState:
    providers: dict[str, ProviderConfig] = field(default_factory=dict)
    use_separate_models: bool = False
    routes: tuple[TaskRoute, ...] = ()


def evolve(state: ProviderSettingsState, event: DomainEvent) -> ProviderSettingsState:
    match event:
        case ProviderConfigured():
            config = ProviderConfig(event.base_url, event.enabled, event.key_set, event.key_hint)
            return replace(state, providers={**state.providers, event.provider: config})
        case ProviderRemoved():
            rest = {k: v for k, v in state.providers.items() if k != event.provider}
            return replace(state, providers=rest)
        case TaskRoutesSet():
            return replace(
                state, use_separate_models=event.use_separate_models, routes=tuple(event.routes)
            )
    return state


def fold(events: list[DomainEvent]) -> ProviderSettingsState:
    return reduce(evolve, events, ProviderSettingsState())


def key_hint(api_key: str) -> str | None:
    """At most the last four characters, and none at all for a short key."""
    return api_key[-HINT_CHARS:] if len(api_key) >= MIN_KEY_FOR_HINT else None


def require_known(provider: str) -> None:
    if provider not in PROVIDERS:
        raise not_found("Provider")


def check_base_url(url: str) -> str:
    """http(s) with a host and no credentials inside (keys belong in `api_key`)."""
    if any(c.isspace() for c in url):
        raise invalid("Invalid base_url: must not contain whitespace")
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        raise invalid("Invalid base_url: not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise invalid("Invalid base_url: must be an http:// or https:// URL with a host")
    if parts.username or parts.password:
        raise invalid("Invalid base_url: credentials in the URL are not allowed; use api_key")
    return url.rstrip("/")


def decide_configure(
    state: ProviderSettingsState, cmd: ConfigureProvider, *, user_id: UUID
) -> ProviderConfigured:
    """The provider's whole config after this change; fields not given keep their value."""
    require_known(cmd.provider)
    current = state.providers.get(cmd.provider) or ProviderConfig(None, True, False, None)
    base_url = current.base_url
    if cmd.base_url_set:
        raw = (cmd.base_url or "").strip()
        base_url = check_base_url(raw) if raw else None
    key_set, hint = current.key_set, current.key_hint
    if cmd.api_key_set:
        api_key = (cmd.api_key or "").strip()
        key_set, hint = bool(api_key), key_hint(api_key) if api_key else None
    return ProviderConfigured(
        user_id=user_id,
        provider=cmd.provider,
        base_url=base_url,
        enabled=current.enabled if cmd.enabled is None else cmd.enabled,
        key_set=key_set,
        key_hint=hint,
    )


def decide_remove(
    state: ProviderSettingsState, provider: str, *, user_id: UUID
) -> list[DomainEvent]:
    """Nothing to record when nothing was configured; routes through it go with it."""
    require_known(provider)
    events: list[DomainEvent] = []
    if provider in state.providers:
        events.append(ProviderRemoved(user_id=user_id, provider=provider))
    kept = [r for r in state.routes if r.provider != provider]
    if len(kept) != len(state.routes):
        events.append(
            TaskRoutesSet(
                user_id=user_id, use_separate_models=state.use_separate_models, routes=kept
            )
        )
    return events


def decide_routes(cmd: SetTaskRoutes, *, user_id: UUID) -> TaskRoutesSet:
    """Every task known, every provider known, each task at most once."""
    seen: set[str] = set()
    routes: list[TaskRoute] = []
    for route in cmd.routes:
        if route.task not in TASKS:
            raise invalid(f"Invalid task. Valid options: {', '.join(TASKS)}")
        if route.provider not in PROVIDERS:
            raise invalid(invalid_provider_detail())
        if route.task in seen:
            raise invalid(f"Task {route.task!r} is routed more than once")
        model = route.model.strip()
        if not model:
            raise invalid("A route needs a model")
        seen.add(route.task)
        routes.append(TaskRoute(task=route.task, provider=route.provider, model=model))
    routes.sort(key=lambda r: TASKS.index(r.task))
    return TaskRoutesSet(
        user_id=user_id, use_separate_models=cmd.use_separate_models, routes=routes
    )

"""The provider-settings domain: key hints, base URL checks, removal taking its routes along."""

from __future__ import annotations

import uuid

import pytest

from contracts.commands import ConfigureProvider, SetTaskRoutes
from contracts.events import ProviderConfigured, ProviderRemoved, TaskRoute, TaskRoutesSet
from threads.domain import provider_settings as domain
from threads.domain.errors import DomainError

USER = uuid.uuid4()


def test_key_hint_is_at_most_the_last_four_characters() -> None:
    assert domain.key_hint("sk-abcdefghijklmnop") == "mnop"
    assert domain.key_hint("short-key") is None


@pytest.mark.parametrize(
    "url", ["http://localhost:11434/v1", "https://api.example.com", "http://[::1]:8080/x?y=1"]
)
def test_http_and_https_urls_are_accepted(url: str) -> None:
    assert domain.check_base_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "ftp://x.example",
        "http://",
        "https://u:p@x.example",
        "http://x.example:99999",
        "http:// spaced.example",
        "//x.example",
        "x.example",
    ],
)
def test_other_urls_are_refused(url: str) -> None:
    with pytest.raises(DomainError) as info:
        domain.check_base_url(url)
    assert info.value.code == "invalid"


def test_configure_keeps_fields_not_given_and_never_holds_the_key() -> None:
    state = domain.fold(
        [
            ProviderConfigured(
                user_id=USER,
                provider="openai",
                base_url="http://a",
                enabled=True,
                key_set=True,
                key_hint="wxyz",
            )
        ]
    )
    cmd = ConfigureProvider(provider="openai", enabled=False)
    event = domain.decide_configure(state, cmd, user_id=USER)
    assert (event.base_url, event.enabled, event.key_set, event.key_hint) == (
        "http://a",
        False,
        True,
        "wxyz",
    )
    key = "sk-new-key-0123456789"
    cmd = ConfigureProvider(provider="openai", api_key=key, api_key_set=True)
    event = domain.decide_configure(state, cmd, user_id=USER)
    assert event.key_hint == "6789" and key not in event.model_dump_json()


def test_remove_takes_the_routes_through_the_provider_along() -> None:
    state = domain.fold(
        [
            ProviderConfigured(
                user_id=USER,
                provider="openai",
                base_url=None,
                enabled=True,
                key_set=True,
                key_hint=None,
            ),
            TaskRoutesSet(
                user_id=USER,
                use_separate_models=True,
                routes=[
                    TaskRoute(task="chat", provider="openai", model="gpt-4o"),
                    TaskRoute(task="title", provider="echo", model="echo"),
                ],
            ),
        ]
    )
    removed, routes = domain.decide_remove(state, "openai", user_id=USER)
    assert isinstance(removed, ProviderRemoved)
    assert isinstance(routes, TaskRoutesSet)
    assert routes.use_separate_models is True
    assert [r.task for r in routes.routes] == ["title"]
    assert domain.decide_remove(state, "google", user_id=USER) == []
    with pytest.raises(DomainError):
        domain.decide_remove(state, "nope", user_id=USER)


def test_routes_refuse_unknown_tasks_providers_and_duplicates() -> None:
    def routes(*triples: tuple[str, str, str]) -> SetTaskRoutes:
        return SetTaskRoutes(
            use_separate_models=False,
            routes=[TaskRoute(task=t, provider=p, model=m) for t, p, m in triples],
        )

    ok = domain.decide_routes(
        routes(("title", "echo", "echo"), ("chat", "openai", " m ")), user_id=USER
    )
    assert [(r.task, r.model) for r in ok.routes] == [("chat", "m"), ("title", "echo")]
    for bad in (
        routes(("translate", "echo", "echo")),
        routes(("chat", "nope", "m")),
        routes(("chat", "echo", "a"), ("chat", "echo", "b")),
        routes(("chat", "echo", "  ")),
    ):
        with pytest.raises(DomainError):
            domain.decide_routes(bad, user_id=USER)

"""Every setting of every service is documented in the README, by its environment variable."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from chat_worker.config import Settings as WorkerSettings
from devstack.settings import StackSettings
from gateway.config import Settings as GatewaySettings
from switchboard_cli.config import CliSettings
from threads.config import Settings as ThreadsSettings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def variables(settings: type[BaseSettings]) -> list[str]:
    prefix = settings.model_config.get("env_prefix", "")
    names = []
    for name, field in settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, str):
            names.append(alias.upper())
        elif isinstance(alias, AliasChoices):  # documented by its first (public) name
            names.append(str(alias.choices[0]).upper())
        else:
            names.append(f"{prefix}{name}".upper())
    return names


@pytest.mark.parametrize(
    "settings",
    [GatewaySettings, ThreadsSettings, WorkerSettings, StackSettings, CliSettings],
    ids=lambda s: s.__module__,
)
def test_every_setting_is_in_the_readme(settings: type[BaseSettings]) -> None:
    missing = [v for v in variables(settings) if v not in README]
    assert missing == [], f"document these in README.md: {missing}"

"""E2E fixtures shared by modules: one stack whose providers are the fake wire-format servers.

`provider_stack` is started once per session for every module that asks for it (instructions,
generation options, /v1 parameters), rather than once per module: each stack is its own NATS,
database and services, and the machine is small. Tests tell their requests apart by a model
name of their own (`tests.support.provider_chat.unique_model`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.chat_stack import ChatStack, isolated_chat_stack
from tests.support.servers import Infra


@pytest.fixture(scope="session")
def provider_stack(infra: Infra, artifacts_dir: Path) -> Iterator[ChatStack]:
    with isolated_chat_stack(infra, artifacts_dir, workers=1) as running:
        yield running

"""A stack of its own for chat tests that need worker settings of their own: its own NATS
server and database (so its workers never share the session stack's durable consumer), two
chat workers, quick redelivery, and every provider pointed at the in-process fake providers.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from devstack.nats import start_nats
from tests.support.database import create_migrated_database
from tests.support.fake_providers import FakeProviders
from tests.support.servers import Infra, free_port
from tests.support.stack import Stack, start_stack

KEYS = {
    "openai": "sk-test-openai-key-1234567890abcdef",
    "anthropic": "sk-ant-test-key-1234567890abcdef",
    "google": "AIza-test-google-key-1234567890abcd",
}


@dataclass
class ChatStack:
    stack: Stack
    fake: FakeProviders
    nats_url: str
    log_dir: Path

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.log_dir.glob("*.log"))


def worker_env(fake: FakeProviders) -> dict[str, str]:
    return {
        "WORKER_OPENAI_BASE_URL": fake.openai_base_url,
        "WORKER_ANTHROPIC_BASE_URL": fake.anthropic_base_url,
        "WORKER_GOOGLE_BASE_URL": fake.google_base_url,
        "OPENAI_API_KEY": KEYS["openai"],
        "ANTHROPIC_API_KEY": KEYS["anthropic"],
        "GOOGLE_API_KEY": KEYS["google"],
        # A dead worker's answer moves on within ~1.5 s; heartbeats keep live ones.
        "WORKER_BACKOFF": json.dumps([1.5, 2, 2, 2]),
        "WORKER_HEARTBEAT_INTERVAL": "0.3",
        "WORKER_MAX_DELIVER": "6",
        "WORKER_PROVIDER_RETRIES": "2",
        "WORKER_PROVIDER_RETRY_DELAY": "0.05",
        "WORKER_PROVIDER_READ_TIMEOUT": "10",
    }


@contextmanager
def isolated_chat_stack(
    infra: Infra, artifacts_dir: Path, *, workers: int = 2
) -> Iterator[ChatStack]:
    log_dir = Path(tempfile.mkdtemp(prefix="chat-stack-", dir=artifacts_dir))
    with (
        FakeProviders(expected_keys=dict(KEYS)) as fake,
        open(log_dir / "nats.log", "wb") as nats_log,
    ):
        nats = start_nats(
            log_dir / "nats-data",
            free_port(),
            stdout=nats_log,
            stderr=subprocess.STDOUT,
            sync_always=False,
        )
        try:
            database_url = create_migrated_database(infra.admin_dsn, prefix="sb_chat")
            own = Infra(infra.admin_dsn, nats.url)
            stack = start_stack(
                own, database_url, log_dir, workers=workers, extra_env=worker_env(fake)
            )
            try:
                yield ChatStack(stack, fake, nats.url, log_dir)
            finally:
                stack.stop()
        finally:
            nats.stop()

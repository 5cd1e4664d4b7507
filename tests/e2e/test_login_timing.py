"""Login timing does not tell whether an email is registered: a wrong password for a known email
and any password for an unknown one cost one argon2id verification each.

On a gateway of its own with the production argon2 cost (the test stack's is lowered), so the
hash dominates: were the unknown-email path to skip it, its median would be several times
shorter and this test would fail. The factor is generous: this is a security property, not a
speed target.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.config import Settings
from tests.conftest import register, start_stack
from tests.support.servers import Infra
from tests.support.stack import Stack

ROUNDS = 30
FACTOR = 2.0


@pytest.fixture(scope="module")
def real_cost_stack(infra: Infra, database_url: str, artifacts_dir: Path) -> Iterator[Stack]:
    defaults = Settings()
    log_dir = Path(tempfile.mkdtemp(prefix="login-timing-", dir=artifacts_dir))
    running = start_stack(
        infra,
        database_url,
        log_dir,
        extra_env={
            "GATEWAY_ARGON2_MEMORY_KIB": str(defaults.argon2_memory_kib),
            "GATEWAY_ARGON2_TIME_COST": str(defaults.argon2_time_cost),
        },
    )
    yield running
    running.stop()


async def test_login_time_does_not_reveal_whether_an_email_exists(
    real_cost_stack: Stack,
) -> None:
    async with httpx.AsyncClient(base_url=real_cost_stack.base_url, timeout=30) as client:
        known = await register(client)
        unknown = f"nobody-{uuid.uuid4().hex[:12]}@example.com"

        async def login(email: str) -> float:
            start = time.perf_counter()
            r = await client.post(
                "/api/auth/login", json={"email": email, "password": "wrong password!"}
            )
            elapsed = time.perf_counter() - start
            assert r.status_code == 401
            assert r.json() == {"detail": "Incorrect email or password"}
            return elapsed

        await login(known.email)  # warm up connections and caches on both paths
        await login(unknown)
        known_times, unknown_times = [], []
        for _ in range(ROUNDS):  # interleaved, so drift on a shared machine hits both alike
            known_times.append(await login(known.email))
            unknown_times.append(await login(unknown))

    known_median = statistics.median(known_times)
    unknown_median = statistics.median(unknown_times)
    ratio = max(known_median, unknown_median) / min(known_median, unknown_median)
    print(
        f"login median: known {known_median * 1000:.1f} ms, unknown {unknown_median * 1000:.1f} ms"
    )
    assert ratio < FACTOR, (known_median, unknown_median)

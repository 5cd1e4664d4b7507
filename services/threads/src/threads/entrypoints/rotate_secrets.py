"""`switchboard-threads rotate-secrets`: re-seal every stored provider key under the active
server key, so an old server key can then be dropped from THREADS_SECRET_KEYS."""

from __future__ import annotations

import structlog

from threads.bootstrap import build_engine
from threads.config import Settings
from threads.store.crypto import SecretDecryptError
from threads.store.secrets import rotate_secrets

log = structlog.get_logger(__name__)


async def run_rotate(settings: Settings) -> int:
    ring = settings.secret_keyring()
    engine = build_engine(settings)
    try:
        count = await rotate_secrets(engine, ring)
    except SecretDecryptError as exc:
        log.error("rotation stopped; keep every old key configured", reason=str(exc))
        return 1
    finally:
        await engine.dispose()
    log.info("provider keys re-sealed", count=count, active_key_id=ring.active_id)
    return 0

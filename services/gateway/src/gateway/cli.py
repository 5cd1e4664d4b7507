"""`switchboard-gateway`: serve the HTTP API with uvicorn."""

from __future__ import annotations

import sys

import uvicorn

from gateway.config import Settings
from gateway.main import create_app
from observability.logging import configure_logging


def main(argv: list[str] | None = None) -> int:
    settings = Settings()
    configure_logging("gateway", level=settings.log_level, json=settings.log_json)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        backlog=settings.backlog,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`switchboard-chat-worker`: run the chat worker."""

from __future__ import annotations

import sys

import uvloop

from chat_worker.config import Settings
from chat_worker.entrypoints.serve import serve
from observability.logging import configure_logging


def main(argv: list[str] | None = None) -> int:
    settings = Settings()
    configure_logging("chat-worker", level=settings.log_level, json=settings.log_json)
    uvloop.run(serve(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())

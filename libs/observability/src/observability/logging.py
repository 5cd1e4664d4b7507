"""One call configures structlog and the standard library alike.

JSON lines in production (`json=True`), readable lines for a terminal. Anything bound with
`structlog.contextvars.bind_contextvars` (correlation id, user id) appears on every line logged
while handling that message, including lines from libraries that use the standard `logging`.
"""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(service: str, *, level: str = "INFO", json: bool = True) -> None:
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.EventRenamer("msg") if json else _noop,
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            *shared,
            _add_service(service),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, _add_service(service)],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "nats", "faststream"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def _noop(_: object, __: str, event_dict: structlog.types.EventDict) -> structlog.types.EventDict:
    return event_dict


def _add_service(service: str) -> structlog.types.Processor:
    def add(_: object, __: str, event_dict: structlog.types.EventDict) -> structlog.types.EventDict:
        event_dict.setdefault("service", service)
        return event_dict

    return add

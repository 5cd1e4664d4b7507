"""Prometheus metrics: every metric of every service is defined here, once, by name.

Services import the ones they update. `serve_metrics(port)` exposes them over HTTP for the
services that have no HTTP server of their own (threads, chat-worker); the gateway mounts
`/metrics` on its app.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

# -- threads service --
COMMANDS = Counter("switchboard_commands_total", "Commands handled", ["command", "outcome"])
COMMAND_SECONDS = Histogram("switchboard_command_seconds", "Command handling time", ["command"])
EVENTS_APPENDED = Counter("switchboard_events_appended_total", "Events appended", ["type"])
RELAY_PUBLISHED = Counter("switchboard_relay_published_total", "Events relayed to JetStream")
RELAY_LAG = Gauge("switchboard_relay_lag_events", "Committed events not yet relayed (outbox)")
RELAY_LAG_SECONDS = Gauge("switchboard_relay_lag_seconds", "Age of the oldest unrelayed event")

# -- gateway --
HTTP_SECONDS = Histogram(
    "switchboard_http_request_seconds", "HTTP request latency", ["method", "route", "status"]
)

# -- chat worker --
TOKENS_STREAMED = Counter(
    "switchboard_tokens_streamed_total", "Token deltas published", ["provider"]
)
PROVIDER_SECONDS = Histogram("switchboard_provider_seconds", "Provider call duration", ["provider"])
PROVIDER_ERRORS = Counter(
    "switchboard_provider_errors_total", "Provider errors", ["provider", "code"]
)
CONSUMER_PENDING = Gauge(
    "switchboard_consumer_pending", "Messages pending for the consumer", ["consumer"]
)


def serve_metrics(port: int, host: str = "127.0.0.1") -> None:
    start_http_server(port, addr=host)

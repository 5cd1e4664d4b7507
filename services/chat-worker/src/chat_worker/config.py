"""Settings of the chat worker (env prefix `WORKER_`; deployment API keys by their usual names).

The consumer settings are applied to the durable consumer explicitly at every start (see
`streams`), so changing them here really changes the running consumer.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from messaging.nats_settings import NatsSettings


class Settings(BaseSettings, NatsSettings):
    model_config = SettingsConfigDict(env_prefix="WORKER_", extra="ignore", populate_by_name=True)

    stream_replicas: int = Field(default=1, ge=1, le=5, description="TOKENS; 3 on a cluster")
    stream_setup_timeout: float = Field(
        default=60.0, gt=0, description="seconds stream setup waits for a cluster to elect"
    )
    request_timeout: float = Field(default=5.0, gt=0, description="threads service replies")
    concurrency: int = Field(default=32, ge=1, description="answers generated at once, per process")
    # -- the durable consumer on EVENTS --------------------------------------------------------
    # With `backoff` set the server's ack wait for delivery n is backoff[n-1] (backoff[0] for the
    # first), so the heartbeat must come well within the smallest entry.
    ack_wait: float = Field(default=30.0, gt=0, description="seconds; replaced by backoff[0]")
    backoff: list[float] = Field(default_factory=lambda: [15.0, 30.0, 60.0, 120.0])
    max_deliver: int = Field(default=6, ge=1)
    max_ack_pending: int = Field(default=1000, ge=1, description="in flight, all workers")
    heartbeat_interval: float = Field(default=3.0, gt=0, description="msg.in_progress() period")
    # -- tokens --------------------------------------------------------------------------------
    tokens_max_age: float = Field(default=3600.0, gt=0, description="seconds tokens are kept")
    tokens_max_consumers: int = Field(
        default=10_000,
        ge=-1,
        description="consumers TOKENS allows (-1: no limit); each gateway holds one per answer "
        "it streams. Unset, nats-server 2.15 allows 1,000 per stream",
    )
    tokens_memory_storage: bool = False
    tokens_persist_mode: Literal["async", "default"] = Field(
        default="async",
        description="TOKENS on file: `async` acks before the write reaches the disk, `default` "
        "follows the server's sync setting (an fsync per token event with sync_interval: always)",
    )
    context_push_ttl: float = Field(
        default=30.0,
        ge=0,
        le=90.0,  # well inside EVENTS' 120 s duplicate window: see chat_worker.pushed_contexts
        description="seconds a pushed chat context is kept for its request; 0: always ask",
    )
    context_push_cache_bytes: int = Field(
        default=32 * 1024 * 1024, ge=0, description="pushed contexts kept, at most, per process"
    )
    coalesce_interval: float = Field(default=0.03, ge=0, description="max seconds a delta waits")
    coalesce_chars: int = Field(default=2048, ge=1, description="flush a delta at this size")
    # -- providers -----------------------------------------------------------------------------
    max_tokens: int = Field(default=4096, ge=1, description="answer length limit sent upstream")
    max_document_chars: int = Field(default=400_000, ge=0, description="document text per prompt")
    title_max_tokens: int = Field(default=64, ge=1)
    title_timeout: float = Field(default=30.0, gt=0)
    summary_max_tokens: int = Field(default=1024, ge=1)
    summary_timeout: float = Field(default=60.0, gt=0)
    provider_connect_timeout: float = Field(default=10.0, gt=0)
    provider_read_timeout: float = Field(default=120.0, gt=0, description="max gap between chunks")
    provider_retries: int = Field(default=2, ge=0, description="extra tries on transient errors")
    provider_retry_delay: float = Field(default=1.0, ge=0, description="first backoff, doubles")
    provider_retry_max_delay: float = Field(default=20.0, ge=0)
    # -- the model catalogue (GET /api/models) -------------------------------------------------
    # A query's own deadline (the gateway's share of its request timeout) shortens this one.
    models_deadline: float = Field(default=2.0, gt=0, description="seconds, whole call")
    models_concurrency: int = Field(default=64, ge=1, description="listings at once, per process")
    models_cache_ttl: float = Field(default=60.0, ge=0, description="seconds a list is reused")
    models_error_ttl: float = Field(default=10.0, ge=0, description="seconds a failure is reused")
    anthropic_base_url: str | None = None
    google_base_url: str | None = None
    openai_base_url: str | None = None
    deepseek_base_url: str | None = None
    openrouter_base_url: str | None = None
    ollama_base_url: str | None = None
    # Deployment-wide keys, used when a user has not configured their own.
    anthropic_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("ANTHROPIC_API_KEY", "WORKER_ANTHROPIC_API_KEY")
    )
    google_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("GOOGLE_API_KEY", "WORKER_GOOGLE_API_KEY")
    )
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "WORKER_OPENAI_API_KEY")
    )
    deepseek_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("DEEPSEEK_API_KEY", "WORKER_DEEPSEEK_API_KEY")
    )
    openrouter_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("OPENROUTER_API_KEY", "WORKER_OPENROUTER_API_KEY"),
    )
    log_level: str = "INFO"
    log_json: bool = True
    metrics_port: int | None = Field(default=None, description="Prometheus port; off if unset")

    @model_validator(mode="after")
    def _check_consumer(self) -> Settings:
        if self.backoff and self.max_deliver <= len(self.backoff):
            raise ValueError("WORKER_MAX_DELIVER must be larger than the number of backoff steps")
        if any(b <= 0 for b in self.backoff):
            raise ValueError("WORKER_BACKOFF entries must be positive seconds")
        if self.heartbeat_interval * 2 > self.effective_ack_wait:
            raise ValueError(
                "WORKER_HEARTBEAT_INTERVAL must be at most half the effective ack wait "
                f"({self.effective_ack_wait:g} s)"
            )
        return self

    @property
    def effective_ack_wait(self) -> float:
        """The server's real ack wait: the smallest backoff step when backoff is set."""
        return min(self.backoff) if self.backoff else self.ack_wait

    def env_key(self, provider: str) -> str | None:
        secret: SecretStr | None = getattr(self, f"{provider}_api_key", None)
        value = secret.get_secret_value().strip() if secret is not None else ""
        return value or None

    def base_url_override(self, provider: str) -> str | None:
        value: str | None = getattr(self, f"{provider}_base_url", None)
        return value or None

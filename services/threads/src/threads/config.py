"""Settings of the threads service (env prefix `THREADS_`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="THREADS_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/switchboard"
    nats_url: str = "nats://127.0.0.1:4222"
    db_pool_size: int = Field(default=10, ge=1)
    command_retries: int = Field(default=5, ge=0, description="retries on a version conflict")
    relay_batch_size: int = Field(default=256, ge=1)
    relay_poll_interval: float = Field(default=0.5, gt=0, description="seconds between sweeps")
    nats_timeout: float = Field(default=5.0, gt=0)
    default_provider: str = "anthropic"
    max_document_bytes: int = Field(default=1024 * 1024, ge=1)
    log_level: str = "INFO"
    log_json: bool = True
    metrics_port: int | None = Field(default=None, description="Prometheus port; off if unset")

"""Settings of the threads service (env prefix `THREADS_`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from messaging.nats_settings import NatsSettings
from threads.store.crypto import DEV_KEY, DEV_KEY_ID, KeyRing, decode_key


class Settings(BaseSettings, NatsSettings):
    # Errors never echo input: it holds server keys (and the database password).
    model_config = SettingsConfigDict(
        env_prefix="THREADS_", extra="ignore", hide_input_in_errors=True
    )

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/switchboard"
    stream_replicas: int = Field(default=1, ge=1, le=5, description="EVENTS; 3 on a cluster")
    stream_setup_timeout: float = Field(
        default=60.0, gt=0, description="seconds stream setup waits for a cluster to elect"
    )
    db_pool_size: int = Field(default=10, ge=1)
    command_retries: int = Field(default=5, ge=0, description="retries on a version conflict")
    relay_batch_size: int = Field(default=256, ge=1)
    relay_poll_interval: float = Field(default=0.5, gt=0, description="seconds between sweeps")
    sweeper_interval: float = Field(
        default=60.0, gt=0, description="seconds between looks for answers whose request was lost"
    )
    sweeper_age: float = Field(
        default=900.0,
        gt=0,
        description="an answer still streaming this long after its request (and again after "
        "its republish) is republished (then failed `request_lost`)",
    )
    nats_timeout: float = Field(default=5.0, gt=0)
    default_provider: str = "anthropic"
    max_document_bytes: int = Field(default=1024 * 1024, ge=1)
    context_push_max_bytes: int = Field(
        default=256 * 1024,
        ge=0,
        description="largest chat context pushed to the workers with PostChat; 0: never push",
    )
    search_candidates: int = Field(
        default=500,
        ge=1,
        le=100_000,
        description="newest matching messages (and titles) a search ranks",
    )
    log_level: str = "INFO"
    log_json: bool = True
    metrics_port: int | None = Field(default=None, description="Prometheus port; off if unset")
    metrics_host: str = "0.0.0.0"
    environment: Literal["development", "production"] = "development"
    secret_keys: dict[str, SecretStr] = Field(
        default_factory=dict,
        description='server keys sealing provider API keys: JSON {"key id": "base64 32 bytes"}',
    )
    active_secret_key_id: str | None = Field(
        default=None, description="the key sealing new secrets; optional with a single key"
    )

    @model_validator(mode="after")
    def _check_secret_keys(self) -> Settings:
        """Outside development a real server key is required; the dev key is refused."""
        for key_id, value in self.secret_keys.items():
            try:
                raw = decode_key(value.get_secret_value())
            except ValueError as exc:
                raise ValueError(f"THREADS_SECRET_KEYS[{key_id!r}] {exc}") from None
            if raw == decode_key(DEV_KEY) and self.environment != "development":
                raise ValueError("THREADS_SECRET_KEYS must not contain the development key")
        if self.environment != "development" and not self.secret_keys:
            raise ValueError("THREADS_SECRET_KEYS must be set outside development")
        if self.active_secret_key_id is not None:
            if self.active_secret_key_id not in self.secret_keys:
                raise ValueError("THREADS_ACTIVE_SECRET_KEY_ID must name a key in SECRET_KEYS")
        elif len(self.secret_keys) > 1:
            raise ValueError("THREADS_ACTIVE_SECRET_KEY_ID is required with several keys")
        return self

    def secret_keyring(self) -> KeyRing:
        """The configured keys; in development the public dev key is always among them."""
        keys = {k: decode_key(v.get_secret_value()) for k, v in self.secret_keys.items()}
        if self.environment == "development":
            keys.setdefault(DEV_KEY_ID, decode_key(DEV_KEY))
        active = self.active_secret_key_id or next(iter(self.secret_keys), DEV_KEY_ID)
        return KeyRing(keys, active)

"""Settings of the gateway (env prefix `GATEWAY_`)."""

from __future__ import annotations

import hmac
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from messaging.nats_settings import NatsSettings

DEV_JWT_SECRET = "dev-only-insecure-jwt-secret-change-me-0123456789"


class Settings(BaseSettings, NatsSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    environment: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    request_timeout: float = Field(default=5.0, gt=0, description="seconds to wait for a reply")
    stream_lookup_timeout: float = Field(
        default=30.0,
        gt=0,
        description="seconds an answer stream's opening lookup may wait (a burst of readers)",
    )
    backlog: int = Field(
        default=4096,
        ge=1,
        description="connections waiting to be accepted; a burst past it waits for the "
        "clients' SYN retries (seconds). The kernel's somaxconn caps it",
    )
    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    jwt_ttl_seconds: int = Field(default=24 * 3600, gt=0)
    # The key of API keys' HMAC; unset, one derived from jwt_secret (set it to rotate apart).
    api_key_secret: SecretStr | None = None
    registration_enabled: bool = True
    max_body_bytes: int = Field(default=2 * 1024 * 1024, gt=0)
    max_document_bytes: int = Field(default=1024 * 1024, gt=0)
    max_import_bytes: int = Field(default=64 * 1024 * 1024, gt=0)  # POST /api/imports
    # conversations sent to the threads service per command, one transaction (a larger
    # conversation goes alone, up to the NATS server's max_payload)
    import_batch_bytes: int = Field(default=768 * 1024, gt=0)
    import_batch_timeout: float = Field(default=60.0, gt=0)  # seconds for one batch's reply
    rate_limit_writes_per_minute: int = Field(default=600, ge=0, description="0: no limit")
    rate_limit_writes_burst: int = Field(default=120, ge=1)
    rate_limit_chats_per_minute: int = Field(default=60, ge=0, description="0: no limit")
    rate_limit_chats_burst: int = Field(default=20, ge=1)
    max_streams_per_user: int = Field(default=8, ge=0, description="0: no limit")
    # The limits above held once per deployment, in a NATS KV bucket (gateway/shared_limits.py)
    shared_limits: bool = Field(default=True, description="false: each gateway its own")
    limits_bucket: str = Field(default="LIMITS", pattern=r"^[a-zA-Z0-9_-]+$")
    limits_lease: int = Field(default=4, ge=1, description="credits leased at a time")
    limits_lease_seconds: float = Field(default=10.0, gt=0)  # unspent leased credits dropped
    limits_timeout: float = Field(default=0.25, gt=0)  # seconds for one KV operation
    limits_retry_seconds: float = Field(default=5.0, gt=0)  # own limits after a KV failure
    stream_heartbeat_seconds: float = Field(default=10.0, ge=1)  # open streams' entry refresh
    stream_replicas: int = Field(default=1, ge=1, le=5, description="LIMITS; 3 on a cluster")
    argon2_time_cost: int = Field(default=2, ge=1)
    argon2_memory_kib: int = Field(default=19 * 1024, ge=8)
    log_level: str = "INFO"
    log_json: bool = True

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        secret = self.jwt_secret.get_secret_value()
        if self.environment != "development" and (secret == DEV_JWT_SECRET or len(secret) < 32):
            raise ValueError("GATEWAY_JWT_SECRET must be set to a random value of 32+ characters")
        if self.api_key_secret is not None and len(self.api_key_secret.get_secret_value()) < 32:
            raise ValueError("GATEWAY_API_KEY_SECRET must be a random value of 32+ characters")
        return self

    def api_key_hmac_secret(self) -> bytes:
        """The HMAC key API keys are stored under (the same on every gateway)."""
        if self.api_key_secret is not None:
            return self.api_key_secret.get_secret_value().encode()
        derived = hmac.new(self.jwt_secret.get_secret_value().encode(), b"api-keys", "sha256")
        return derived.digest()

"""The NATS settings every service shares, read with that service's own env prefix
(`THREADS_NATS_URL`, `GATEWAY_NATS_USER`, `WORKER_NATS_CREDS`, ...).

Credentials are settings of their own rather than parts of the URL: servers discovered
through a cluster are announced without them, so a client that knew only the URL's user and
password could not authenticate on a server it learned about later.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from messaging.connection import Auth


class NatsSettings(BaseModel):
    model_config = ConfigDict(hide_input_in_errors=True)  # errors never echo a password

    nats_url: str = Field(
        default="nats://127.0.0.1:4222", description="one server or a comma-separated list"
    )
    nats_user: str | None = None
    nats_password: SecretStr | None = None
    nats_creds: Path | None = Field(default=None, description="a .creds file (JWT and nkey)")

    @model_validator(mode="after")
    def _one_way_to_authenticate(self) -> NatsSettings:
        if (self.nats_user is None) != (self.nats_password is None):
            raise ValueError("NATS_USER and NATS_PASSWORD go together")
        if self.nats_creds is not None and self.nats_user is not None:
            raise ValueError("NATS_CREDS or NATS_USER/NATS_PASSWORD, not both")
        return self

    @property
    def nats_auth(self) -> Auth:
        password = self.nats_password.get_secret_value() if self.nats_password else None
        creds = str(self.nats_creds) if self.nats_creds else None
        return Auth(user=self.nats_user, password=password, creds=creds)

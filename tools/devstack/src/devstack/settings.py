"""Settings of `switchboard-up` (env prefix `SWITCHBOARD_`), the one place the environment is read.

Variable, default, meaning:

    SWITCHBOARD_DATA_DIR            .data           postgres and nats data, pid files
    SWITCHBOARD_PG_PORT             55432           embedded PostgreSQL port (127.0.0.1)
    SWITCHBOARD_NATS_PORT           4222            embedded nats-server client port
    SWITCHBOARD_NATS_MONITOR_PORT   8222            nats-server monitoring port (0: off)
    SWITCHBOARD_NATS_NODES          1               nats-server nodes; 3: a JetStream cluster
                                                    (node i on each port + i - 1), R3 streams
    SWITCHBOARD_NATS_CLUSTER_PORT   6222            the first node's cluster (route) port
    SWITCHBOARD_DATABASE_NAME       switchboard     database the threads service uses
    SWITCHBOARD_DATABASE_URL        (unset)         use this PostgreSQL instead of starting one
    SWITCHBOARD_NATS_URL            (unset)         use this NATS instead of starting one
    SWITCHBOARD_GATEWAY_HOST        127.0.0.1       where the gateways listen
    SWITCHBOARD_GATEWAY_PORT        8000            gateway i listens on PORT + i - 1
    SWITCHBOARD_THREADS             1               threads service processes (make THREADS=n)
    SWITCHBOARD_GATEWAYS            1               gateway processes (make GATEWAYS=n)
    SWITCHBOARD_WORKERS             1               chat-worker processes (make WORKERS=n)
    SWITCHBOARD_RESTART_BACKOFF     0.5             first wait (s) before restarting a dead one
    SWITCHBOARD_RESTART_BACKOFF_MAX 10              the wait doubles up to this
    SWITCHBOARD_STOP_TIMEOUT        10              seconds between SIGTERM and SIGKILL
    SWITCHBOARD_READY_TIMEOUT       120             warn if /readyz is not 200 by then
    SWITCHBOARD_COLOR               auto            auto (colour if a terminal), always, never
    SWITCHBOARD_BIN_DIR             this venv's bin where the services' console scripts are

The services get THREADS_/GATEWAY_/WORKER_ variables pointing at these servers; anything else
the user exported (say GATEWAY_JWT_SECRET, or THREADS_LOG_JSON=true) is passed through as it is.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class StackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", extra="ignore")

    data_dir: Path = Path(".data")
    pg_port: int = Field(default=55432, ge=1, le=65535)
    nats_port: int = Field(default=4222, ge=1, le=65535)
    nats_monitor_port: int = Field(default=8222, ge=0, le=65535)
    nats_nodes: int = Field(default=1, ge=1, le=5)
    nats_cluster_port: int = Field(default=6222, ge=1, le=65535)
    database_name: str = "switchboard"
    database_url: str | None = None
    nats_url: str | None = None
    gateway_host: str = "127.0.0.1"
    gateway_port: int = Field(default=8000, ge=1, le=65535)
    threads: int = Field(default=1, ge=0)
    gateways: int = Field(default=1, ge=0)
    workers: int = Field(default=1, ge=0)
    restart_backoff: float = Field(default=0.5, gt=0)
    restart_backoff_max: float = Field(default=10.0, gt=0)
    stop_timeout: float = Field(default=10.0, gt=0)
    ready_timeout: float = Field(default=120.0, gt=0)
    color: Literal["auto", "always", "never"] = "auto"
    bin_dir: Path = Path(sys.executable).parent

    def inherited_environment(self) -> dict[str, str]:
        """The services start from the user's environment so their own settings pass through."""
        return dict(os.environ)

"""The Switchboard services: how each is started, how many, and the environment each one gets."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import subprocess
from dataclasses import dataclass
from pathlib import Path

from devstack.console import Console
from devstack.settings import StackSettings


@dataclass(frozen=True)
class Instance:
    """One process to run: `threads.1`, `gateway.2`..."""

    name: str
    argv: list[str]
    env: dict[str, str]
    url: str | None = None

    def spawn(self, console: Console) -> subprocess.Popen[bytes]:
        """Start it with its output shown prefixed in the console."""
        process = self.popen()
        console.follow(self.name, process)
        return process

    def popen(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            self.argv,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C goes to the supervisor, which stops us in order
        )


@dataclass(frozen=True)
class Endpoints:
    database_url: str
    nats_url: str


def base_environment(settings: StackSettings, endpoints: Endpoints) -> dict[str, str]:
    """What every service gets: the servers' URLs (ours win), readable logs (the user's win)."""
    env = settings.inherited_environment()
    for prefix in ("THREADS", "GATEWAY", "WORKER"):
        env.setdefault(f"{prefix}_LOG_JSON", "false")
    env.update(
        PYTHONUNBUFFERED="1",
        THREADS_DATABASE_URL=endpoints.database_url,
        THREADS_NATS_URL=endpoints.nats_url,
        GATEWAY_NATS_URL=endpoints.nats_url,
        WORKER_NATS_URL=endpoints.nats_url,
    )
    replicas = str(stream_replicas(settings))
    env.setdefault("THREADS_STREAM_REPLICAS", replicas)
    env.setdefault("WORKER_STREAM_REPLICAS", replicas)
    return env


def stream_replicas(settings: StackSettings) -> int:
    """R3 on a cluster of three or more (JetStream's own advice: odd, at most 5)."""
    return 3 if settings.nats_nodes >= 3 else 1


def script(settings: StackSettings, name: str) -> Path:
    return settings.bin_dir / name


def missing(settings: StackSettings, name: str) -> str | None:
    """Why console script `name` cannot run yet, or None when it can.

    A workspace member declares its script before its code exists, so the script file alone
    proves little: we also look for the module its entry point names.
    """
    path = script(settings, name)
    if not path.exists():
        return f"{path} does not exist yet"
    module = next(
        (ep.module for ep in importlib.metadata.entry_points(group="console_scripts", name=name)),
        None,
    )
    if module is None:
        return None  # another environment's script: let it speak for itself
    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        found = False
    return None if found else f"its module {module} is not written yet"


def threads_instances(settings: StackSettings, env: dict[str, str]) -> list[Instance]:
    argv = [str(script(settings, "switchboard-threads")), "serve"]
    return [Instance(f"threads.{i}", argv, env) for i in range(1, settings.threads + 1)]


def gateway_instances(settings: StackSettings, env: dict[str, str]) -> list[Instance]:
    argv = [str(script(settings, "switchboard-gateway"))]
    instances = []
    for i in range(1, settings.gateways + 1):
        port = settings.gateway_port + i - 1
        own = env | {"GATEWAY_HOST": settings.gateway_host, "GATEWAY_PORT": str(port)}
        url = f"http://{browsable_host(settings.gateway_host)}:{port}"
        instances.append(Instance(f"gateway.{i}", argv, own, url))
    return instances


def worker_instances(settings: StackSettings, env: dict[str, str]) -> list[Instance]:
    argv = [str(script(settings, "switchboard-chat-worker"))]
    return [Instance(f"chat-worker.{i}", argv, env) for i in range(1, settings.workers + 1)]


def browsable_host(host: str) -> str:
    """A wildcard listen address is reached through the loopback."""
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host

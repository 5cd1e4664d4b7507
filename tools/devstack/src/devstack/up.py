"""`switchboard-up` (what `make up` runs): the whole stack on one machine, in one terminal.

Starts nats-server (JetStream) and PostgreSQL with their data under `.data/` (fsync on), applies
the migrations with `switchboard-threads migrate`, then runs the threads, gateway and chat-worker
services as child processes and keeps them running: one that dies is started again after a
backoff. Every process's output is shown here prefixed with its name (`threads.1 | ...`), the
servers' logs included. Ctrl-C or SIGTERM stops everything in order (services with SIGTERM, then
nats with SIGTERM, postgres with SIGINT; SIGKILL for whatever is still there after the stop
timeout; a second Ctrl-C kills at once) and exits 0; the next run reuses the data.

Settings are environment variables prefixed `SWITCHBOARD_`: see `devstack.settings`.
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable
from types import FrameType

from devstack import infra, readiness, services
from devstack.console import Console, wants_color
from devstack.flag import Flag
from devstack.runfiles import RunFiles
from devstack.services import Endpoints, Instance
from devstack.settings import StackSettings
from devstack.supervised import Spawn, Supervised, stop_all

STARTED = time.monotonic()


class StopRequest:
    """Signal handlers only set flags: the main thread does the talking (handlers take no locks).

    One Ctrl-C can arrive twice: the terminal signals the whole foreground group, and `uv run`
    (which `make up` goes through) forwards what it got to us as well. A second signal counts
    as "hurry" (kill at once) only if it comes `DOUBLE_DELIVERY` seconds or more after the
    first; otherwise every Ctrl-C killed Postgres and NATS instead of stopping them."""

    DOUBLE_DELIVERY = 0.5

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.requested = Flag()
        self.hurry = Flag()
        self.received: list[str] = []
        self.clock = clock
        self._first_at: float | None = None

    def install(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._handle)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        now = self.clock()
        if self._first_at is None:
            self._first_at = now
        elif now - self._first_at < self.DOUBLE_DELIVERY:
            return  # the same Ctrl-C, delivered twice
        else:
            self.hurry.set()
        self.received.append(signal.Signals(signum).name)
        self.requested.set()


class Stack:
    def __init__(
        self, settings: StackSettings, console: Console, stop: StopRequest, runfiles: RunFiles
    ) -> None:
        self.settings = settings
        self.console = console
        self.stop = stop
        self.runfiles = runfiles
        self.servers: list[Supervised] = []  # postgres, nats: stopped last
        self.services: list[Supervised] = []

    def run(self) -> int:
        """Start everything, then watch it until asked to stop. Non-zero only if startup failed."""
        if not self._preflight():
            return 1
        endpoints = self._start_servers()
        if endpoints is None:
            return 0 if self.stop.requested.is_set() else 1
        env = services.base_environment(self.settings, endpoints)
        gateways = self._available("gateway", "switchboard-gateway", self.settings.gateways)
        if gateways:
            for instance in services.gateway_instances(self.settings, env):
                self.console.say(f"{instance.name} will listen on {instance.url}")
                self._start_service(instance)
        if self._available("chat-worker", "switchboard-chat-worker", self.settings.workers):
            for instance in services.worker_instances(self.settings, env):
                self._start_service(instance)
        # migrations run even with THREADS=0 (say, threads runs in a debugger)
        if self._available("threads", "switchboard-threads", 1):
            if not self._migrate(env):
                return 0 if self.stop.requested.is_set() else 1
            for instance in services.threads_instances(self.settings, env):
                self._start_service(instance)
        if gateways:
            first = services.gateway_instances(self.settings, env)[0].url
            assert first is not None
            readiness.watch(
                first,
                started=STARTED,
                stop=self.stop.requested,
                console=self.console,
                patience=self.settings.ready_timeout,
            )
        while not self.stop.requested.is_set():
            for member in self.servers + self.services:
                member.check()
            self.stop.requested.wait(0.2)
        return 0

    def shutdown(self) -> None:
        why = ", ".join(self.stop.received) or "startup failed"
        self.console.say(f"{why}: stopping {len(self.services)} service process(es)")
        hurry = self.stop.hurry.is_set
        timeout = self.settings.stop_timeout
        stop_all(self.services, timeout=timeout, hurry=hurry, console=self.console)
        # no client is left: postgres (SIGINT) and nats (SIGTERM) can stop side by side
        stop_all(self.servers, timeout=timeout, hurry=hurry, console=self.console)
        self.console.drain(timeout=1.0)
        self.console.say("everything stopped")

    def _preflight(self) -> bool:
        """Refuse early, with a useful message, rather than restart a process that cannot bind."""
        s = self.settings
        wanted: list[tuple[str, int, str]] = []
        if s.nats_url is None:
            for node in infra.nats_nodes(s):
                wanted.append(
                    (node.name, node.port, "SWITCHBOARD_NATS_PORT or SWITCHBOARD_NATS_URL")
                )
                if node.monitor_port:
                    wanted.append(
                        (
                            f"{node.name} monitor",
                            node.monitor_port,
                            "SWITCHBOARD_NATS_MONITOR_PORT (0 turns it off)",
                        )
                    )
                if node.cluster is not None:
                    port = node.cluster.cluster_port
                    wanted.append((f"{node.name} cluster", port, "SWITCHBOARD_NATS_CLUSTER_PORT"))
        if s.database_url is None:
            wanted.append(
                ("postgres", s.pg_port, "SWITCHBOARD_PG_PORT or SWITCHBOARD_DATABASE_URL")
            )
        for i in range(s.gateways):
            wanted.append((f"gateway.{i + 1}", s.gateway_port + i, "SWITCHBOARD_GATEWAY_PORT"))
        ok = True
        for what, port, setting in wanted:
            host = s.gateway_host if what.startswith("gateway") else "127.0.0.1"
            if infra.port_taken(port, host):
                self.console.say(f"port {port} ({what}) is already in use: set {setting}")
                ok = False
        return ok

    def _start_servers(self) -> Endpoints | None:
        s = self.settings
        if s.nats_url is not None:
            nats_url = s.nats_url
            self.console.say(f"nats: using {nats_url}")
        else:
            nodes = infra.nats_nodes(s)
            nats_url = infra.nats_url(nodes)
            if len(nodes) > 1:
                self.console.say(
                    f"nats: a JetStream cluster of {len(nodes)} nodes ({nats_url}), "
                    f"streams with {services.stream_replicas(s)} replicas"
                )
            for node in nodes:
                monitor = (
                    f", monitor http://127.0.0.1:{node.monitor_port}" if node.monitor_port else ""
                )
                self.console.say(
                    f"nats: starting nats://127.0.0.1:{node.port}{monitor}, JetStream in "
                    f"{node.data_dir}, its log below as `{node.name} |`"
                )
                spawn = infra.nats_spawn(node, self.console)
                if not self._start_server(node.name, spawn, infra.NATS_STOP):
                    return None
        if s.database_url is not None:
            database_url = infra.asyncpg_url(s.database_url)
            self.console.say("postgres: using SWITCHBOARD_DATABASE_URL")
        else:
            database_url = infra.embedded_database_url(s)
            self.console.say(
                f"postgres: starting 127.0.0.1:{s.pg_port}, data in "
                f"{s.data_dir / 'postgres'}, its log below as `postgres |`"
            )
            spawn = infra.postgres_spawn(s, self.console)
            if not self._start_server("postgres", spawn, infra.POSTGRES_STOP):
                return None
        return Endpoints(database_url=database_url, nats_url=nats_url)

    def _start_server(self, name: str, spawn: Spawn, stop_signal: signal.Signals) -> bool:
        server = self._supervised(name, spawn, stop_signal=stop_signal, signal_group=False)
        self.servers.append(server)
        return server.start() and not self.stop.requested.is_set()

    def _available(self, kind: str, script: str, count: int) -> bool:
        if count <= 0:
            return False
        reason = services.missing(self.settings, script)
        if reason is not None:
            self.console.say(f"{kind} skipped: {script}: {reason}")
        return reason is None

    def _start_service(self, instance: Instance) -> None:
        member = self._supervised(instance.name, lambda: instance.spawn(self.console))
        self.services.append(member)
        member.start()

    def _supervised(self, name: str, spawn: Spawn, **kwargs: object) -> Supervised:
        return Supervised(
            name,
            spawn,
            console=self.console,
            backoff=self.settings.restart_backoff,
            backoff_max=self.settings.restart_backoff_max,
            on_spawn=self.runfiles.record,
            **kwargs,  # type: ignore[arg-type]
        )

    def _migrate(self, env: dict[str, str]) -> bool:
        argv = [str(services.script(self.settings, "switchboard-threads")), "migrate"]
        self.console.say("applying migrations: switchboard-threads migrate")
        began = time.monotonic()
        process = Instance("migrate", argv, env).popen()
        pump = self.console.follow("migrate", process)
        while process.poll() is None:
            if self.stop.requested.wait(0.05):
                process.terminate()
                process.wait()
                return False
        pump.join(timeout=1.0)
        if process.returncode != 0:
            self.console.say(f"migrations failed (exit code {process.returncode}): stopping")
            return False
        self.console.say(f"migrations applied in {time.monotonic() - began:.1f}s")
        return True


def _width(settings: StackSettings) -> int:
    names = ["devstack", "postgres", "migrate"]
    names += [
        f"threads.{settings.threads}",
        f"gateway.{settings.gateways}",
        f"chat-worker.{settings.workers}",
    ]
    return max(len(n) for n in names)


def main() -> int:
    settings = StackSettings()
    stop = StopRequest()
    stop.install()
    console = Console(width=_width(settings), color=wants_color(settings.color))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    runfiles = RunFiles(settings.data_dir)
    other = runfiles.running_supervisor()
    if other is not None:
        console.say(f"switchboard-up (pid {other}) already runs on {settings.data_dir}: stop it")
        return 1
    runfiles.stop_leftovers(console, timeout=settings.stop_timeout)
    runfiles.claim()
    stack = Stack(settings, console, stop, runfiles)
    try:
        return stack.run()
    finally:
        stack.shutdown()
        runfiles.release()


if __name__ == "__main__":
    sys.exit(main())

"""The real services as child processes, the way `make up` runs them, for e2e and fault tests."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from tests.support.servers import Infra, free_port

BIN = Path(sys.executable).parent


@dataclass
class ServiceProcess:
    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    ready_line: str | None = None  # what it logs once it serves (the gateway: /readyz)
    process: subprocess.Popen[bytes] | None = None
    _log_start: int = 0  # where this run's lines begin: a restart appends to the same log

    def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115
        self._log_start = log.tell()
        self.process = subprocess.Popen(
            self.argv,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no chance to clean up, as in a crash."""
        if self.alive():
            assert self.process is not None
            self.process.kill()
            self.process.wait()

    def stop(self, timeout: float = 10.0) -> None:
        if not self.alive():
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def ready(self) -> bool:
        """Whether this run has logged its `ready_line` (always, without one)."""
        if self.ready_line is None:
            return True
        try:
            with open(self.log_path, "rb") as log:
                log.seek(self._log_start)
                return self.ready_line.encode() in log.read()
        except OSError:
            return False

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


@dataclass
class Stack:
    base_url: str
    services: dict[str, ServiceProcess] = field(default_factory=dict)

    def stop(self) -> None:
        for svc in reversed(list(self.services.values())):
            svc.stop()

    async def logged(
        self, prefix: str, event: str, timeout: float = 15.0, **fields: str
    ) -> dict[str, Any]:
        """The first JSON log line `event` with these `fields` from the services whose name
        starts with `prefix`: for asserting that something did not happen once the service
        says it is done, instead of sleeping and hoping."""
        deadline = time.monotonic() + timeout
        logs = [s.log_path for name, s in self.services.items() if name.startswith(prefix)]
        while time.monotonic() < deadline:
            for path in logs:
                for line in path.read_bytes().splitlines():
                    if b'"' + event.encode() + b'"' not in line:
                        continue
                    try:
                        record = orjson.loads(line)
                    except orjson.JSONDecodeError:
                        continue
                    if record.get("msg") == event and all(
                        str(record.get(k)) == v for k, v in fields.items()
                    ):
                        return dict(record)
            await asyncio.sleep(0.05)
        raise TimeoutError(f"no {event!r} {fields} logged by {prefix}*")


def service_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(extra)
    return env


def executable(name: str) -> str:
    path = BIN / name
    return str(path) if path.exists() else shutil.which(name) or name


def wait_ready(
    base_url: str, services: list[ServiceProcess], timeout: float = 40.0, path: str = "/readyz"
) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        for svc in services:
            if not svc.alive():
                raise RuntimeError(f"{svc.name} exited early:\n{svc.log_tail()}")
        try:
            r = httpx.get(f"{base_url}{path}", timeout=2)
            waiting = [svc.name for svc in services if not svc.ready()]
            if r.status_code == 200 and not waiting:
                return
            last = r.text if waiting == [] else f"{r.text}; not serving yet: {waiting}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.1)
    logs = "\n".join(f"--- {s.name}\n{s.log_tail()}" for s in services)
    raise TimeoutError(f"stack not ready: {last}\n{logs}")


def start_stack(
    infra: Infra,
    database_url: str | None,
    log_dir: Path,
    *,
    workers: int = 1,
    threads: int = 1,
    extra_env: dict[str, str] | None = None,
    ready: bool = True,
) -> Stack:
    """The one way tests run the services: `threads` threads services, `workers` chat workers
    and a gateway on `infra`'s NATS (its Postgres through `database_url`), started the way
    `make up` starts them. Returned once the gateway's /readyz answers 200 and every threads
    service and worker has said it serves (a worker still starting would answer no query),
    or with `ready` false once /healthz does (for a gateway alone, with no threads service to
    answer). On
    `infra`'s NATS cluster the streams get three replicas, as `make up NATS_NODES=3` makes."""
    port = free_port()
    replicas = "3" if infra.nats_cluster is not None else "1"
    env = service_env(
        {
            "THREADS_DATABASE_URL": database_url or "",
            "THREADS_NATS_URL": infra.nats_url,
            "THREADS_LOG_JSON": "true",
            "PYTHONUNBUFFERED": "1",
            "GATEWAY_NATS_URL": infra.nats_url,
            "GATEWAY_PORT": str(port),
            "GATEWAY_ARGON2_MEMORY_KIB": "1024",
            "GATEWAY_ARGON2_TIME_COST": "1",
            "WORKER_NATS_URL": infra.nats_url,
            "THREADS_STREAM_REPLICAS": replicas,
            "WORKER_STREAM_REPLICAS": replicas,
            # Tests hammer the API as one user; the limits have their own tests and stack.
            "GATEWAY_RATE_LIMIT_WRITES_PER_MINUTE": "1000000",
            "GATEWAY_RATE_LIMIT_WRITES_BURST": "100000",
            "GATEWAY_RATE_LIMIT_CHATS_PER_MINUTE": "1000000",
            "GATEWAY_RATE_LIMIT_CHATS_BURST": "100000",
            "GATEWAY_MAX_STREAMS_PER_USER": "1000",
            **(extra_env or {}),
        }
    )
    stack = Stack(base_url=f"http://127.0.0.1:{port}")
    serve = [executable("switchboard-threads"), "serve"]
    specs = [
        ("threads" if i == 1 else f"threads-{i}", serve, "threads service ready")
        for i in range(1, threads + 1)
    ]
    specs += [
        (f"chat-worker-{i}", [executable("switchboard-chat-worker")], "chat worker ready")
        for i in range(1, workers + 1)
    ]
    specs.append(("gateway", [executable("switchboard-gateway")], None))
    for name, argv, ready_line in specs:
        log_path = log_dir / f"{name}-{port}.log"
        svc = ServiceProcess(name, argv, env, log_path, ready_line if ready else None)
        svc.start()
        stack.services[name] = svc
    try:
        wait_ready(
            stack.base_url, list(stack.services.values()), path="/readyz" if ready else "/healthz"
        )
    except Exception:
        stack.stop()
        raise
    return stack

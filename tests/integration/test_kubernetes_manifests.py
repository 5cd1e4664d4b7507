"""What CI can check of deploy/kubernetes/ without a cluster: the example overlay renders (with
the subset of kustomize it uses, refused beyond it); every built-in object passes the
Kubernetes 1.37 schema (kubernetes-validate, strict); the CloudNativePG Cluster and Pooler and
the NATS chart values hold what the deployment relies on; every Deployment has its probes, PDB
and HPA; every environment variable a manifest sets is a setting of that service; and the
services start and serve with exactly the manifests' commands and environment against a
three-node NATS cluster with the chart's users (hosts mapped to the loopback)."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import kubernetes_validate
import pytest
import yaml

from chat_worker.config import Settings as WorkerSettings
from gateway.config import Settings as GatewaySettings
from tests.support.servers import Infra, NatsCluster, free_port
from tests.support.stack import ServiceProcess, wait_ready
from threads.config import Settings as ThreadsSettings

ROOT = Path(__file__).resolve().parents[2]
KUBE = ROOT / "deploy" / "kubernetes"
OVERLAY = KUBE / "overlays" / "example"
K8S_VERSION = "1.37.0"
KNOWN_KEYS = {"apiVersion", "kind", "resources", "namespace", "labels", "images", "replicas"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding"}
SETTINGS = {"threads": ThreadsSettings, "chat-worker": WorkerSettings, "gateway": GatewaySettings}
SERVICE_OF = {"switchboard-migrate": "threads"}


def render(folder: Path) -> list[dict[str, Any]]:
    """kustomize build, for the features our kustomizations use (anything else fails here)."""
    spec = yaml.safe_load((folder / "kustomization.yaml").read_text())
    assert set(spec) <= KNOWN_KEYS, set(spec) - KNOWN_KEYS
    docs: list[dict[str, Any]] = []
    for resource in spec.get("resources", []):
        path = (folder / resource).resolve()
        if path.is_dir():
            docs += render(path)
        else:
            docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    for doc in docs:
        meta = doc.setdefault("metadata", {})
        for group in spec.get("labels", []):
            meta.setdefault("labels", {}).update(group["pairs"])
        if "namespace" in spec and doc["kind"] not in CLUSTER_SCOPED:
            meta["namespace"] = spec["namespace"]
        for container in containers(doc):
            for image in spec.get("images", []):
                if container["image"] == image["name"]:
                    container["image"] = f"{image['newName']}:{image['newTag']}"
        for replicas in spec.get("replicas", []):
            if doc["kind"] == "Deployment" and meta["name"] == replicas["name"]:
                doc["spec"]["replicas"] = replicas["count"]
    return docs


def containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    if doc["kind"] not in ("Deployment", "Job"):
        return []
    return doc["spec"]["template"]["spec"]["containers"]  # type: ignore[no-any-return]


def of_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


@pytest.fixture(scope="module")
def docs() -> list[dict[str, Any]]:
    return render(OVERLAY)


def test_built_in_objects_pass_the_kubernetes_schema(docs: list[dict[str, Any]]) -> None:
    checked = 0
    for doc in docs:
        if doc["apiVersion"].startswith("postgresql.cnpg.io/"):
            continue
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        checked += 1
    assert checked >= 14
    assert all(d["metadata"].get("namespace") == "switchboard" for d in docs)
    images = {c["image"] for d in docs for c in containers(d)}
    assert all(i.startswith("registry.example.com/switchboard/") for i in images), images


def test_bad_manifests_are_caught_by_the_validator(docs: list[dict[str, Any]]) -> None:
    """The check can fail: a misspelt field and a missing one are refused."""
    deployment = dict(of_kind(docs, "Deployment")["gateway"])
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate({**deployment, "spec": {"replica": 2}}, K8S_VERSION, True)
    hpa = dict(of_kind(docs, "HorizontalPodAutoscaler")["gateway"])
    spec = {k: v for k, v in hpa["spec"].items() if k != "maxReplicas"}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate({**hpa, "spec": spec}, K8S_VERSION, True)


def test_each_service_has_probes_a_pdb_and_an_hpa(docs: list[dict[str, Any]]) -> None:
    deployments = of_kind(docs, "Deployment")
    assert set(deployments) == set(SETTINGS)
    pdbs = {
        d["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]: d
        for d in docs
        if d["kind"] == "PodDisruptionBudget"
    }
    hpas = {
        d["spec"]["scaleTargetRef"]["name"] for d in docs if d["kind"] == "HorizontalPodAutoscaler"
    }
    for name, deployment in deployments.items():
        (container,) = containers(deployment)
        assert container["readinessProbe"]["httpGet"]["path"]
        assert container["livenessProbe"]["httpGet"]["path"]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert pdbs[labels["app.kubernetes.io/name"]]["spec"]["minAvailable"] == 1
        assert name in hpas
    gateway = containers(deployments["gateway"])[0]
    assert gateway["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert gateway["livenessProbe"]["httpGet"]["path"] == "/healthz"
    (job,) = of_kind(docs, "Job").values()
    assert containers(job)[0]["command"] == ["switchboard-threads", "migrate"]


def test_the_postgres_cluster_and_pooler(docs: list[dict[str, Any]]) -> None:
    """CloudNativePG's CRDs are not in the validator: the fields the deployment relies on."""
    (cluster,) = of_kind(docs, "Cluster").values()
    assert cluster["apiVersion"] == "postgresql.cnpg.io/v1"
    spec = cluster["spec"]
    assert spec["instances"] == 3
    assert spec["postgresql"]["synchronous"]["method"] in ("any", "first")
    assert spec["postgresql"]["synchronous"]["number"] >= 1
    assert spec["storage"]["size"]
    initdb = spec["bootstrap"]["initdb"]
    secrets = of_kind(docs, "Secret")
    credentials = secrets[initdb["secret"]["name"]]
    assert credentials["type"] == "kubernetes.io/basic-auth"
    assert credentials["stringData"]["username"] == initdb["owner"]
    (pooler,) = of_kind(docs, "Pooler").values()
    assert pooler["spec"]["cluster"]["name"] == cluster["metadata"]["name"]
    assert pooler["spec"]["type"] == "rw"
    assert pooler["spec"]["pgbouncer"]["poolMode"] == "session"
    urls = secrets["switchboard-secrets"]["stringData"]
    password = credentials["stringData"]["password"]
    assert f":{password}@{pooler['metadata']['name']}:5432/" in urls["database-url"]
    assert f":{password}@{cluster['metadata']['name']}-rw:5432/" in urls["migrate-database-url"]


def test_the_nats_chart_values() -> None:
    values = yaml.safe_load((KUBE / "nats" / "values.yaml").read_text())
    config = values["config"]
    assert config["cluster"] == {"enabled": True, "replicas": 3}
    assert config["jetstream"]["enabled"] and config["jetstream"]["fileStore"]["enabled"]
    assert config["jetstream"]["merge"]["sync_interval"] == "always"
    users = {u["user"] for u in config["merge"]["authorization"]["users"]}
    assert users == {"threads", "worker", "gateway"}


def test_every_environment_variable_is_a_setting(docs: list[dict[str, Any]]) -> None:
    for doc in docs:
        for container in containers(doc):
            service = SERVICE_OF.get(doc["metadata"]["name"], doc["metadata"]["name"])
            known = setting_names(SETTINGS[service])
            unknown = {e["name"] for e in container.get("env", [])} - known
            assert not unknown, (service, unknown)


def setting_names(settings: type[Any]) -> set[str]:
    prefix = settings.model_config["env_prefix"]
    names = set()
    for name, info in settings.model_fields.items():
        names.add(f"{prefix}{name}".upper())
        choices = getattr(info.validation_alias, "choices", None) or []
        names.update(str(c).upper() for c in choices)
    return names


async def _prepare_database(infra: Infra, database: str, password: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(infra.admin_dsn)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = 'switchboard'"):
            await conn.execute("CREATE ROLE switchboard LOGIN")
        await conn.execute(f"ALTER ROLE switchboard PASSWORD '{password}'")
        await conn.execute(f'CREATE DATABASE "{database}" OWNER switchboard')
    finally:
        await conn.close()


NODE = re.compile(r"nats://nats-(\d)\.nats-headless:4222")


def local(value: str, cluster: NatsCluster, pg_port: int, database: str) -> str:
    value = NODE.sub(lambda m: f"nats://127.0.0.1:{cluster.ports[int(m.group(1))]}", value)
    return re.sub(
        r"@switchboard-db(-pooler|-rw):5432/switchboard", f"@127.0.0.1:{pg_port}/{database}", value
    )


def environment(
    container: dict[str, Any], secrets: dict[str, dict[str, Any]], mapped: Any
) -> dict[str, str]:
    env = {}
    for entry in container.get("env", []):
        if "value" in entry:
            env[entry["name"]] = mapped(entry["value"])
            continue
        ref = entry["valueFrom"]["secretKeyRef"]
        value = secrets[ref["name"]].get("stringData", {}).get(ref["key"])
        if value is None:
            assert ref.get("optional"), ref
            continue
        env[entry["name"]] = mapped(value)
    return env


@pytest.fixture(scope="module")
def example_secrets(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The example Secrets, with a real server key where the example holds a placeholder."""
    secrets = of_kind(docs, "Secret")
    key = base64.b64encode(os.urandom(32)).decode()
    secrets["switchboard-secrets"]["stringData"]["threads-secret-keys"] = f'{{"k1": "{key}"}}'
    return secrets


@pytest.fixture(scope="module")
def chart_cluster(
    tmp_path_factory: pytest.TempPathFactory, example_secrets: dict[str, dict[str, Any]]
) -> Any:
    """Three nats-server nodes with the chart values' users and the example passwords."""
    values = yaml.safe_load((KUBE / "nats" / "values.yaml").read_text())
    stored = example_secrets["switchboard-secrets"]["stringData"]
    users = []
    for user in values["config"]["merge"]["authorization"]["users"]:
        password = stored[f"nats-{user['user']}-password"]
        users.append(f'    {{ user: {user["user"]}, password: "{password}" }}')
    auth = ("authorization {", "  users = [", *users, "  ]", "}")
    root = tmp_path_factory.mktemp("kube-nats")
    with open(root / "nats.log", "wb") as log:
        cluster = NatsCluster(root, log, extra_config=auth)
        cluster.start_all()
        yield cluster
        cluster.stop_all()


async def test_services_start_with_the_manifest_commands_and_environment(
    infra: Infra,
    docs: list[dict[str, Any]],
    example_secrets: dict[str, dict[str, Any]],
    chart_cluster: NatsCluster,
    tmp_path: Path,
) -> None:
    if infra.postgres is None:
        pytest.skip("needs the embedded Postgres (TCP on 127.0.0.1)")
    database = f"kube_{uuid.uuid4().hex[:8]}"
    db_password = example_secrets["switchboard-db-credentials"]["stringData"]["password"]
    await _prepare_database(infra, database, db_password)

    def mapped(value: str) -> str:
        return local(value, chart_cluster, infra.postgres.port, database)  # type: ignore[union-attr]

    base_env = {k: v for k, v in os.environ.items() if k.startswith(("PATH", "HOME", "LANG"))}
    bin_dir = Path(sys.executable).parent
    (job,) = of_kind(docs, "Job").values()
    (migrate,) = containers(job)
    argv = [str(bin_dir / migrate["command"][0]), *migrate["command"][1:]]
    done = await asyncio.create_subprocess_exec(
        *argv, env={**base_env, **environment(migrate, example_secrets, mapped)}
    )
    assert await asyncio.wait_for(done.wait(), 120) == 0

    deployments = of_kind(docs, "Deployment")
    gateway_port = free_port()
    procs: list[ServiceProcess] = []
    try:
        for name in ("threads", "chat-worker", "gateway"):
            (container,) = containers(deployments[name])
            env = {**base_env, **environment(container, example_secrets, mapped)}
            prefix = {"threads": "THREADS_", "chat-worker": "WORKER_", "gateway": "GATEWAY_"}
            if name == "gateway":  # a pod's own port and address: here, the loopback
                env |= {"GATEWAY_PORT": str(gateway_port), "GATEWAY_HOST": "127.0.0.1"}
            else:  # every pod has its own 9100; here they share one machine
                env[f"{prefix[name]}METRICS_PORT"] = str(free_port())
            argv = [str(bin_dir / container["command"][0]), *container["command"][1:]]
            proc = ServiceProcess(name, argv, env, tmp_path / f"{name}.log")
            proc.start()
            procs.append(proc)
        base = f"http://127.0.0.1:{gateway_port}"
        await asyncio.to_thread(wait_ready, base, procs, 90.0)
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            r = await client.post(
                "/api/auth/register",
                json={"email": f"{uuid.uuid4().hex[:8]}@example.com", "password": "password123"},
            )
            assert r.status_code == 201, r.text
            headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
            r = await client.post("/api/threads", json={"model_provider": "echo"}, headers=headers)
            assert r.status_code == 201, r.text
            thread = r.json()["id"]
            async with client.stream(
                "POST", f"/api/threads/{thread}/chat", json={"content": "hi k8s"}, headers=headers
            ) as s:
                body = (await s.aread()).decode()
            assert "event: message_end" in body, body[-500:]
        logs = "".join(p.log_path.read_text(errors="replace") for p in procs)
        for secret in ("change-me-threads", "change-me-worker", "change-me-gateway"):
            assert secret not in logs
    finally:
        for proc in procs:
            proc.stop()

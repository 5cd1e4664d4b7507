"""A three-node JetStream cluster (streams R3, as `make up NATS_NODES=3` runs it) losing a node
under steady writes and chats: one node SIGKILLed, then, the node back, the EVENTS stream's
leader SIGKILLed, then, back again, the EVENTS leader stopped as a rolling upgrade stops it
(lame duck mode: its clients are told to reconnect elsewhere, then closed one by one).

Every write answers 201 or 503 (never a 500) and, retried with its Idempotency-Key, stands
for exactly one thread; every chat ends with one terminal event and one complete stored
answer, the text its client was shown; and the stack goes on serving on the two nodes left.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import nats
import pytest

from contracts.subjects import EVENTS_STREAM, TOKENS_STREAM
from tests.conftest import User, register
from tests.faults.conftest import (
    REQUEST_TIMEOUT,
    FaultInfra,
    FaultStack,
    Outcome,
    create_thread,
    wait_until,
)
from tests.faults.test_outages import (
    HANG_MARGIN,
    Followed,
    assert_answer_settled,
    assert_each_key_one_thread,
    during,
    follow_answer,
)
from tests.support.database import create_migrated_database
from tests.support.servers import Infra, NatsCluster
from tests.support.stack import start_stack

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

# Lame duck mode as short as nats-server allows, its clients closed after 1 s instead of 10.
LAME_DUCK = ('lame_duck_duration: "30s"', 'lame_duck_grace_period: "1s"')
CHATTERS = 3  # threads each asking one question after another while the node goes
WORDS = 40  # an echo-slow answer of ~2 s: some are mid-answer when the node dies


@dataclass
class ClusterStack:
    faults: FaultStack
    cluster: NatsCluster


@pytest.fixture(scope="module")
def cluster_stack(artifacts_dir: Path) -> Iterator[ClusterStack]:
    root = Path(tempfile.mkdtemp(prefix="nats-cluster-", dir=artifacts_dir)).resolve()
    with open(root / "servers.log", "wb") as log:
        servers = FaultInfra(root, log)
        servers.start_pg()
        cluster = NatsCluster(root / "nats", log, extra_config=LAME_DUCK)
        try:
            cluster.start_all()
            assert servers.pg is not None
            infra = Infra(servers.pg.dsn, cluster.url, postgres=servers.pg, nats_cluster=cluster)
            database_url = create_migrated_database(infra.admin_dsn, prefix="sb_cluster")
            stack = start_stack(
                infra,
                database_url,
                root,
                workers=2,
                extra_env={"GATEWAY_REQUEST_TIMEOUT": str(REQUEST_TIMEOUT)},
            )
            try:
                yield ClusterStack(FaultStack(servers, stack, database_url), cluster)
            finally:
                stack.stop()
        finally:
            cluster.stop_all()
            servers.stop_pg()


async def stream_leader(cluster: NatsCluster, stream: str) -> str | None:
    nc = await nats.connect(cluster.url.split(","), connect_timeout=2, max_reconnect_attempts=1)
    try:
        info = await nc.jetstream(timeout=3).stream_info(stream)
    finally:
        await nc.close()
    assert info.cluster is not None
    return info.cluster.leader


async def replicated(cluster: NatsCluster) -> bool:
    """Both streams have a leader and every replica caught up: the cluster is whole again."""
    nc = await nats.connect(cluster.url.split(","), connect_timeout=2, max_reconnect_attempts=1)
    try:
        js = nc.jetstream(timeout=3)
        for stream in (EVENTS_STREAM, TOKENS_STREAM):
            info = await js.stream_info(stream)
            assert info.config.num_replicas == 3
            replicas = info.cluster.replicas if info.cluster else None
            if info.cluster is None or info.cluster.leader is None or not replicas:
                return False
            if len(replicas) != 2 or not all(r.current for r in replicas):
                return False
        return True
    except Exception:
        return False
    finally:
        await nc.close()


async def chat_loop(user: User, thread_id: str, stop: asyncio.Event, done: list[Followed]) -> None:
    """Questions one after another in one thread, each answer followed to its end."""
    while not stop.is_set():
        followed = Followed(thread_id)
        question = " ".join(uuid.uuid4().hex[:6] for _ in range(WORDS))
        await follow_answer(user, followed, question)
        done.append(followed)


async def lose_a_node(cs: ClusterStack, pick: str, *, lame_duck: bool = False) -> None:
    """Writes and chats before, while and after a node goes (EVENTS' `leader`, or a
    `follower` of it; SIGKILLed, or in lame duck mode until it exits); then every outcome is
    checked, and the stack must serve on the two nodes left."""
    cluster = cs.cluster
    async with httpx.AsyncClient(base_url=cs.faults.stack.base_url, timeout=30) as client:
        writer, chatter = await register(client), await register(client)
        threads = []
        for _ in range(CHATTERS):
            r = await chatter.post(
                "/api/threads", json={"model_provider": "echo", "model": "echo-slow"}
            )
            assert r.status_code == 201, r.text
            threads.append(r.json()["id"])
        stop, answers = asyncio.Event(), list[Followed]()
        chats = [asyncio.create_task(chat_loop(chatter, t, stop, answers)) for t in threads]
        try:
            leader = await stream_leader(cluster, EVENTS_STREAM)
            assert leader is not None
            names = [cluster.name(i) for i in range(cluster.size)]
            victim = cluster.index(
                leader if pick == "leader" else next(n for n in names if n != leader)
            )
            how = "lame duck for" if lame_duck else "killing"
            print(f"\nEVENTS leader {leader}; {how} {cluster.name(victim)}")

            def kill() -> None:
                if lame_duck:
                    cluster.lame_duck(victim)
                else:
                    cluster.kill(victim)

            outcomes = await during(writer, kill)
            stop.set()
            await asyncio.gather(*chats)
        finally:
            for chat in chats:
                chat.cancel()

        assert_answered(outcomes)
        await assert_each_key_one_thread(cs.faults, writer, outcomes)
        assert len(answers) >= CHATTERS
        for followed in answers:
            await assert_answer_settled(chatter, followed)
            assert followed.all[-1].event == "message_end", followed.all[-1]
        print(f"writes: {len(outcomes)}, refused: {sum(o.status == 503 for o in outcomes)}")
        print(f"answers: {len(answers)}, resumed: {sum(f.resumes > 0 for f in answers)}")
        print(f"restarted: {sum(any(e.event == 'restart' for e in f.all) for f in answers)}")

        # Two nodes serve everything: writes, a chat, and a new EVENTS leader if it was lost.
        for _ in range(5):
            again = await create_thread(writer.client, writer.headers)
            assert again.status == 201, again
        last = Followed(threads[0])
        await follow_answer(chatter, last, "still here on two nodes")
        await assert_answer_settled(chatter, last)
        now = await stream_leader(cluster, EVENTS_STREAM)
        assert now is not None and now != cluster.name(victim)
        assert all(svc.alive() for svc in cs.faults.stack.services.values())


def assert_answered(outcomes: list[Outcome]) -> None:
    statuses = {o.status for o in outcomes}
    assert statuses <= {201, 503}, sorted(statuses)
    assert all(o.retry_after for o in outcomes if o.status == 503)
    assert max(o.seconds for o in outcomes) < REQUEST_TIMEOUT + HANG_MARGIN


async def test_a_follower_node_killed_under_writes_and_chats(cluster_stack: ClusterStack) -> None:
    await lose_a_node(cluster_stack, "follower")


async def whole_again(cluster: NatsCluster) -> None:
    for i, node in enumerate(cluster.nodes):
        if node is None:
            cluster.start(i)  # back from the test before: three nodes again
    assert await wait_until(lambda: replicated(cluster), 60), "the node never caught up"


async def test_the_events_leader_killed_under_writes_and_chats(
    cluster_stack: ClusterStack,
) -> None:
    await whole_again(cluster_stack.cluster)
    await lose_a_node(cluster_stack, "leader")


async def test_the_events_leader_in_lame_duck_mode_under_writes_and_chats(
    cluster_stack: ClusterStack,
) -> None:
    await whole_again(cluster_stack.cluster)
    await lose_a_node(cluster_stack, "leader", lame_duck=True)

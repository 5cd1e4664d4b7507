"""Bulk seeding for bench_list: one user's 100,000 threads and 1,000,000 messages in minutes.

The events are the very events the handlers append (built with the same contract classes,
`ThreadCreated` and `MessagePosted`, dumped the way `event_store.append` dumps them, with the
same metadata keys), written with COPY in time order, so stream versions and global positions
run as they would have. The read-model rows are then built from those events by set-based SQL
doing what the live projections do row by row (`verify_sample` checks that on a sample by
running the real projector). No outbox rows are written: the seeded events count as already
relayed, so the relay does not spend the benchmark publishing a million events.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from contracts.events import MessagePosted, ThreadCreated

_VOCABULARY = (
    "alpha budget canyon delta ember forest galaxy harbor island jungle kernel lantern meadow "
    "nebula orchard prairie quartz river summit tundra umbrella valley willow xenon yonder "
    "zephyr anchor beacon cobalt dune eclipse falcon glacier horizon ivory jasper kestrel lagoon "
    "marble nectar onyx pebble quiver raven saffron thistle upland velvet walnut yarrow zenith "
    "report review plan draft notes sprint roadmap launch design metrics hiring onboarding "
    "pricing survey research backlog incident retro budgeting forecast invoice contract"
)
WORDS = _VOCABULARY.split()
EVENT_COLUMNS = (
    "stream_id",
    "stream_version",
    "event_id",
    "event_type",
    "schema_version",
    "data",
    "metadata",
    "recorded_at",
)


@dataclass
class Plan:
    """What to seed; counts per thread sum exactly to `messages`."""

    user_id: uuid.UUID
    project_ids: list[uuid.UUID]
    threads: int
    messages: int
    seed: int = 7


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _counts(rng: random.Random, threads: int, messages: int) -> list[int]:
    mean = messages / threads
    counts = [rng.randint(0, int(2 * mean)) for _ in range(threads)]
    diff = messages - sum(counts)
    while diff:
        i = rng.randrange(threads)
        step = 1 if diff > 0 else -1
        if counts[i] + step >= 0:
            counts[i] += step
            diff -= step
    return counts


def _timeline(plan: Plan, rng: random.Random) -> list[tuple[datetime, int, int]]:
    """(recorded_at, thread index, message index or -1 for creation), in time order."""
    start = datetime.now(UTC) - timedelta(days=400)
    span = 360 * 24 * 3600 / plan.threads
    timeline: list[tuple[datetime, int, int]] = []
    for t, count in enumerate(_counts(rng, plan.threads, plan.messages)):
        at = start + timedelta(seconds=t * span + rng.random() * span)
        timeline.append((at, t, -1))
        for m in range(count):
            at += timedelta(seconds=rng.expovariate(1 / 7200))  # two hours apart on average
            timeline.append((at, t, m))
    timeline.sort()
    return timeline


def _uuid_str(rng: random.Random) -> str:
    """A random version-4 UUID as text, without building a UUID object (seeding speed)."""
    h = f"{rng.getrandbits(128) & ~(0xF << 76) & ~(0x3 << 62) | (0x4 << 76) | (0x2 << 62):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _metadata(plan: Plan, rng: random.Random) -> str:
    """The metadata `event_store.append` writes: user, correlation, causation, command."""
    return (
        f'{{"user_id": "{plan.user_id}", "correlation_id": "{_uuid_str(rng)}", '
        f'"causation_id": "{_uuid_str(rng)}", "command_id": "{_uuid_str(rng)}"}}'
    )


def _title(rng: random.Random) -> str:
    return " ".join(rng.choices(WORDS, k=3)).capitalize()


def event_rows(plan: Plan) -> Iterator[tuple[object, ...]]:
    """Every event row to COPY, in recorded_at order (so positions follow time)."""
    rng = random.Random(plan.seed)
    thread_ids = [_uuid(rng) for _ in range(plan.threads)]
    in_project = plan.threads // 5  # a fifth of the threads, spread over the projects
    versions = [0] * plan.threads
    for at, t, m in _timeline(plan, rng):
        versions[t] += 1
        if m < 0:
            project = plan.project_ids[t % len(plan.project_ids)] if t < in_project else None
            event: ThreadCreated | MessagePosted = ThreadCreated(
                thread_id=thread_ids[t],
                user_id=plan.user_id,
                project_id=project,
                title=_title(rng),
                provider="echo",
                model="echo",
                thread_type="ba_assistant",
                agent_type="chat",
            )
        else:
            words = rng.randint(5, 30)
            event = MessagePosted(
                message_id=_uuid(rng),
                thread_id=thread_ids[t],
                role="user" if m % 2 == 0 else "assistant",
                content=" ".join(rng.choices(WORDS, k=words)),
            )
        yield (
            f"thread-{thread_ids[t]}",
            versions[t],
            _uuid(rng),
            event.type_name(),
            event.schema_version,
            event.model_dump_json(exclude={"schema_version"}),
            _metadata(plan, rng),
            at,
        )


async def copy_events(conn: asyncpg.Connection, plan: Plan, batch: int = 50_000) -> int:
    """COPY the events; returns the global position before the first of them. Each batch is
    written while the next one is being built."""
    start = await conn.fetchval("SELECT coalesce(max(global_position), 0) FROM events")
    pending: asyncio.Task[object] | None = None
    rows: list[tuple[object, ...]] = []

    async def flush(batch_rows: list[tuple[object, ...]]) -> None:
        nonlocal pending
        if pending is not None:
            await pending
        pending = asyncio.create_task(
            conn.copy_records_to_table("events", records=batch_rows, columns=EVENT_COLUMNS)
        )
        await asyncio.sleep(0)

    for row in event_rows(plan):
        rows.append(row)
        if len(rows) >= batch:
            await flush(rows)
            rows = []
    if rows:
        await flush(rows)
    if pending is not None:
        await pending
    return int(start)


# What the projections do, as set-based SQL over the seeded events (positions > $1).
MESSAGES_SQL = """
INSERT INTO messages (id, seq, thread_id, user_id, role, content, artifact_data, metadata,
                      status, created_at)
SELECT (data->>'message_id')::uuid, global_position, (data->>'thread_id')::uuid, $2,
       data->>'role', data->>'content', data->'artifact_data', data->'metadata',
       'complete', recorded_at
FROM events WHERE global_position > $1 AND event_type = 'MessagePosted'
"""
THREADS_SQL = """
INSERT INTO threads (id, user_id, project_id, project_name, title, provider, model,
                     thread_type, agent_type, message_count, created_at, updated_at,
                     last_activity_at)
SELECT (e.data->>'thread_id')::uuid, (e.data->>'user_id')::uuid, p.id, p.name,
       e.data->>'title', e.data->>'provider', e.data->>'model', e.data->>'thread_type',
       e.data->>'agent_type', coalesce(m.n, 0), e.recorded_at, e.recorded_at,
       greatest(e.recorded_at, m.last)
FROM events e
LEFT JOIN projects p ON p.id = (e.data->>'project_id')::uuid
LEFT JOIN (SELECT thread_id, count(*) AS n, max(created_at) AS last
           FROM messages WHERE seq > $1 GROUP BY thread_id) m
       ON m.thread_id = (e.data->>'thread_id')::uuid
WHERE e.global_position > $1 AND e.event_type = 'ThreadCreated'
"""
COUNTS_SQL = """
INSERT INTO user_thread_counts (user_id, thread_count)
SELECT $1, count(*) FROM threads WHERE user_id = $1
ON CONFLICT (user_id) DO UPDATE SET thread_count = EXCLUDED.thread_count
"""
PROJECTS_SQL = """
UPDATE projects p SET thread_count = p.thread_count + t.n,
                      last_activity_at = greatest(p.last_activity_at, t.last)
FROM (SELECT project_id, count(*) AS n, max(last_activity_at) AS last
      FROM threads WHERE user_id = $1 AND project_id IS NOT NULL GROUP BY project_id) t
WHERE p.id = t.project_id
"""


async def build_read_models(conn: asyncpg.Connection, start: int, user_id: uuid.UUID) -> None:
    async with conn.transaction():
        await conn.execute(MESSAGES_SQL, start, user_id)
        await conn.execute(THREADS_SQL, start)
        await conn.execute(COUNTS_SQL, user_id)
        await conn.execute(PROJECTS_SQL, user_id)

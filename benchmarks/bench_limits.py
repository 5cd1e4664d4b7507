"""Gateway CPU per limited request: the shared limits (KV leases, stream keys) against the local
buckets alone. Needs a nats-server with JetStream at NATS_URL (default nats://127.0.0.1:4222)."""

import asyncio
import os
import time
import uuid

import nats

from gateway.config import Settings
from gateway.ratelimit import RateBuckets, StreamSlots
from gateway.shared_limits import SharedLimits

N = 4000


async def main():
    nc = await nats.connect(os.environ.get("NATS_URL", "nats://127.0.0.1:4222"))
    s = Settings(rate_limit_writes_per_minute=10**7, rate_limit_writes_burst=10**6)
    sl = SharedLimits(s, StreamSlots(8))
    sl.store.attach(nc)
    users = [uuid.uuid4() for _ in range(50)]
    await sl.writes.take(users[0])
    local = RateBuckets(10**7, 10**6)
    c0 = time.process_time()
    for i in range(N):
        local.take(users[i % 50])
    c1 = time.process_time()
    w1 = time.perf_counter()
    for i in range(N):
        await sl.writes.take(users[i % 50])
    c2 = time.process_time()
    w2 = time.perf_counter()
    slots = sl.streams.slots
    for i in range(N // 4):
        u = users[i % 50]
        slots.acquire(u)
        await sl.streams.admit(u)
        slots._release(u)
        await sl.streams.record(u)
    c3 = time.process_time()
    w3 = time.perf_counter()
    lo = (c1 - c0) / N * 1e6
    sh = (c2 - c1) / N * 1e6
    st = (c3 - c2) / (N // 4) * 1e6
    shared_wall = (w2 - w1) / N * 1e6
    stream_wall = (w3 - w2) / (N // 4) * 1e6
    print(f"local take {lo:.1f} us cpu; shared (lease 4) {sh:.1f} us cpu, {shared_wall:.1f} wall;")
    print(f"stream start+end {st:.1f} us cpu, {stream_wall:.1f} us wall")
    print(f"RESULT local_take_us={lo:.1f} shared_take_us={sh:.1f} stream_slot_us={st:.1f}")
    await nc.close()


asyncio.run(main())

"""Queue writers of one contended stream instead of letting them race.

Optimistic concurrency alone makes N simultaneous writers to one stream fail N-1 times per
round; with a bounded number of retries a burst (forty messages posted to one thread at once)
would end in conflicts. A transaction-scoped advisory lock on the stream id, taken before the
stream is loaded, makes them wait their turn; OCC stays the guarantee, the lock only avoids
the wasted rounds. It is released at commit or rollback.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

# The two-key form (namespace, hash) lives apart from single-bigint advisory locks (the
# relay's), so a hash can never collide with them.
STREAM_LOCK_NAMESPACE = 0x5354  # "ST"
_LOCK = text("SELECT pg_advisory_xact_lock(:namespace, hashtext(:stream_id))")


async def lock_stream(conn: AsyncConnection, stream_id: str) -> None:
    """Wait until no other transaction holds `stream_id`'s lock, then hold it until commit."""
    await conn.execute(_LOCK, {"namespace": STREAM_LOCK_NAMESPACE, "stream_id": stream_id})

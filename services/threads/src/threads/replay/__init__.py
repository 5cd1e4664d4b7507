"""Replay: rebuild every read model from the events alone, online.

1. `bulk` + `memory`: read the log in position order inside one REPEATABLE READ snapshot, with
   asyncpg, and apply each event's changes, as the read models define them
   (`threads.projections`), to rows in memory.
2. `load` + `shadow`: COPY the rows into bare copies of the read-model tables in the schema
   `replay_shadow` (from the SQLAlchemy metadata), then add their keys and indexes.
3. `catch_up`: the same definitions, compiled to SQL as on the live path, apply every event
   the snapshot could not see — written since, or committed late with a lower position —
   found by its transaction id; in rounds
   without a lock, then a last one under `LOCK TABLE events IN EXCLUSIVE MODE` (readers go on;
   writers wait).
4. Still under the lock: swap the shadow tables in (or, with `--check`, `compare` them row by
   row with the live ones). `lock`: one replay at a time per database. `runner` runs it all.
"""

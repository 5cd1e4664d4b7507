"""Replay: rebuild every read model from the events alone, online.

1. `shadow`: create empty copies of the read-model tables in the schema `replay_shadow`, with
   the very same names, indexes and constraints (from the SQLAlchemy metadata).
2. `runner`: read the log in position order inside one REPEATABLE READ snapshot and run the live
   projections against the shadow tables (`search_path` puts the shadow schema first).
3. Catch up under `LOCK TABLE events IN EXCLUSIVE MODE` (readers go on; writers wait): apply
   every event the snapshot could not see — written since, or committed late with a lower
   position — found by its transaction id.
4. Swap the shadow tables in (or, with `--check`, compare them row by row with the live ones).
"""

"""Event store, read-model tables, unit of work, outbox relay and upcasters."""

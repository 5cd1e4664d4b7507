"""NATS plumbing shared by the services (libraries are imported, never run)."""

"""Ways into the threads service: NATS routes (commands, queries) and the CLI."""

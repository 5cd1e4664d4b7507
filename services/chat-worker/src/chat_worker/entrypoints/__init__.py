"""How the chat worker is run: `serve` (the `switchboard-chat-worker` command, see `cli`)."""

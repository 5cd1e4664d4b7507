"""Reading an import file (a Switchboard thread export or ChatGPT's conversations.json) into
the conversations the threads service imports, and sending them in batches that each fit a
NATS message."""

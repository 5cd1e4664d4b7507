"""NATS handlers of the chat worker; each module builds one router from the `Worker`."""

"""`switchboard`: a terminal client that uses only Switchboard's public HTTP API."""

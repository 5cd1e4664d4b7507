"""The AsyncAPI document of the NATS contracts.

`asyncapi.json` beside this module is generated from the services' route tables (`make
asyncapi`, tool `switchboard-asyncapi`); the gateway serves it at `GET /asyncapi.json`, and a
unit test fails when it no longer matches the code.
"""

from __future__ import annotations

from importlib import resources

DOCUMENT = "asyncapi.json"


def read_document() -> bytes:
    """The committed document, as shipped inside this package."""
    return resources.files("contracts").joinpath(DOCUMENT).read_bytes()

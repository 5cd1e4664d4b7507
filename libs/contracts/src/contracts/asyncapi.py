"""The AsyncAPI document of the NATS contracts, and how a handler names its message model there.

`asyncapi.json` beside this module is generated from the services' real FastStream routers
(`make asyncapi`, tool `switchboard-asyncapi`); the gateway serves it at `GET /asyncapi.json`,
and a unit test fails when it no longer matches the code.

FastStream documents a handler's payload from its parameter's type. Our handlers take a plain
`dict` (they validate the contract model themselves, so malformed input gets an `invalid`
reply) or the raw message (for speed), which would be documented as "any object".
`payload_of(Model)` makes the document show `Model` while validation stays exactly what the
parameter's own type asks for: the extra metadata only touches JSON schema generation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Annotated, Any, TypeVar, get_type_hints

from pydantic import BaseModel, Field, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

DOCUMENT = "asyncapi.json"
F = TypeVar("F", bound=Callable[..., Any])


def read_document() -> bytes:
    """The committed document, as shipped inside this package."""
    return resources.files("contracts").joinpath(DOCUMENT).read_bytes()


@dataclass(frozen=True)
class DocumentedAs:
    """Annotation metadata: in JSON schema, the annotated type is `model`."""

    model: type[BaseModel]

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        # Generated in the same run as the rest, so nested models share its `$defs`; inlined
        # rather than left as a `$ref` (FastStream would resolve that to the wrong definition).
        return handler.resolve_ref_schema(handler(self.model.__pydantic_core_schema__))


def payload_of(model: type[BaseModel], *, param: str = "body") -> Callable[[F], F]:
    """Decorator for a FastStream handler: its `param` is documented as `model`."""

    def mark(fn: F) -> F:
        declared = get_type_hints(fn, include_extras=True)[param]
        fn.__annotations__[param] = Annotated[
            declared, DocumentedAs(model), Field(title=model.__name__)
        ]
        return fn

    return mark

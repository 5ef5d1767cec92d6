"""FHIR operations (``$name``), each a small module registered here.

An operation handler is ``async def handler(call: OperationCall) -> Response``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..access import AccessPolicy
from ..interactions import Caller
from ..interactions.caller import Server

__all__ = ["OperationCall", "Operation", "registry", "definitions"]


@dataclass
class OperationCall:
    """One invocation: its HTTP request, the server, the caller's access policy (every
    resource an operation reads goes through storage with it) and the parameters."""

    request: Request
    services: Server
    policy: AccessPolicy
    name: str
    resource_type: str | None
    id: str | None
    parameters: list[tuple[str, Any]]
    body: dict[str, Any] | None

    @property
    def caller(self) -> Caller:
        return Caller(self.services, self.policy)


@dataclass(frozen=True)
class Operation:
    name: str
    handler: Callable[[OperationCall], Awaitable[Response]]
    system: bool = False
    type_level: bool = False
    instance: bool = False
    resource_types: frozenset[str] | None = None  # None: every type
    definition: str | None = None  # canonical OperationDefinition URL
    affects_state: bool = False


def registry() -> dict[str, Operation]:
    """All operations the server offers, by name: every module in this package that
    exposes ``OPERATIONS`` (a list of :class:`Operation`) contributes."""
    import importlib
    import pkgutil

    operations: dict[str, Operation] = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        for operation in getattr(module, "OPERATIONS", []):
            operations[operation.name] = operation
    return operations


def definitions() -> list[dict[str, Any]]:
    """The OperationDefinitions of this server's own operations (``definitions/``),
    stored with the shipped content so that clients can read what the
    CapabilityStatement names."""
    import json
    from pathlib import Path

    folder = Path(__file__).with_name("definitions")
    return [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))]

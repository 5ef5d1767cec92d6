"""Who is asking, and what serves them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from profiles.validator import Validator

from ..access import AccessPolicy, AccessService
from ..config import Settings
from ..search import SearchService
from ..storage import Resources, Storage
from .shipped_gate import ShippedGate

__all__ = ["Caller", "Server"]


class Server(Protocol):
    """What the interactions use of the running server (``fhir_server.services``)."""

    settings: Settings
    access: AccessService
    storage: Storage
    validator: Validator
    search: SearchService
    operations: dict[str, Any]

    @property
    def base(self) -> str: ...

    @property
    def shipped(self) -> ShippedGate: ...


@dataclass(frozen=True)
class Caller:
    """An interaction's caller: the server's services and the caller's access policy."""

    services: Server
    policy: AccessPolicy

    @property
    def resources(self) -> Resources:
        return self.services.storage.resources

    @property
    def base(self) -> str:
        return self.services.base

"""Who is asking, and what serves them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..access import AccessPolicy

if TYPE_CHECKING:
    from ..services import Services
    from ..storage import Resources

__all__ = ["Caller"]


@dataclass(frozen=True)
class Caller:
    """An interaction's caller: the server's services and the caller's access policy."""

    services: Services
    policy: AccessPolicy

    @property
    def resources(self) -> Resources:
        return self.services.storage.resources

    @property
    def base(self) -> str:
        return self.services.base

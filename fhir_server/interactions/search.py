"""search at type, system and compartment level (R4 search.html)."""

from __future__ import annotations

from typing import Any

from .caller import Caller

__all__ = ["search"]


async def search(caller: Caller, resource_type: str | None, params: list[tuple[str, str]],
                 *, compartment: tuple[str, str] | None = None,
                 lenient: bool | None = None) -> dict[str, Any]:
    """The ``searchset`` Bundle of what the caller may see."""
    return await caller.services.search.search(caller.policy, resource_type, params,
                                               compartment=compartment, lenient=lenient)

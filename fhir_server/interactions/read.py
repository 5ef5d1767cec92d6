"""read and vread (R4 http.html#read, #vread)."""

from __future__ import annotations

from ..ids import check_id
from ..storage import StoredResource
from .caller import Caller

__all__ = ["read", "vread"]


async def read(caller: Caller, resource_type: str, rid: str) -> StoredResource:
    """The current version (404 unknown or hidden, 410 deleted)."""
    check_id(rid)
    return await caller.resources.read(caller.policy, resource_type, rid)


async def vread(caller: Caller, resource_type: str, rid: str, vid: int) -> StoredResource:
    check_id(rid)
    return await caller.resources.vread(caller.policy, resource_type, rid, vid)

"""A Subscription as a caller sees it for ``$status``, ``$events`` and
``$get-ws-binding-token``: the resource read through the caller's access policy (404 when
hidden), with the server's registration (status, event count) beside it."""

from __future__ import annotations

from typing import Any

from .. import interactions
from ..interactions import Caller

__all__ = ["subscription_state"]


async def subscription_state(caller: Caller, sid: str) -> tuple[dict[str, Any],
                                                               dict[str, Any]]:
    """(the Subscription, its state); a Subscription the server never registered (stored
    by a loader, not through the API) shows its own status and no events."""
    stored = await interactions.read(caller, "Subscription", sid)
    resource = stored.resource or {}
    state = await caller.services.storage.subscriptions.get(sid)
    if state is None:
        state = {"_id": sid, "topic": resource.get("criteria", ""),
                 "status": resource.get("status", "off"), "events": 0, "delivered": 0,
                 "channel": {"type": (resource.get("channel") or {}).get("type"),
                             "content": "empty", "max_count": 1}}
    return resource, state

"""The subscription owner's access, evaluated at the moment of use.

The owner's access context (the token of whoever wrote the Subscription, kept with its
registration as export jobs keep theirs) is turned into a fresh access policy each time
events are numbered or sent, so the patients' Consents as they are *now* decide, with
the purpose of use the owner wrote the Subscription with. Without an access context
(``--auth off``) the policy is the unrestricted one.
"""

from __future__ import annotations

from typing import Any

from ..access import SYSTEM, AccessPolicy
from ..access.identity import AccessContext
from .notifications import Shown

__all__ = ["owner_policy", "shown_events"]


def owner_policy(services: Any, state: dict[str, Any]) -> AccessPolicy:
    if state.get("access") is None:
        return SYSTEM
    return services.access.for_token(AccessContext.from_document(state["access"]),
                                     state.get("purpose") or "TREAT")


async def shown_events(services: Any, policy: AccessPolicy, events: list[dict[str, Any]],
                       content: str) -> list[Shown]:
    """``events`` as ``policy`` may see them now (see :mod:`.notifications`)."""
    if content == "empty":
        return [Shown(e, True) for e in events]
    visible = await services.storage.outbox.visible_keys(policy, [e["key"] for e in events])
    shown = []
    for event in events:
        resource = visible.get(event["key"])
        full = content == "full-resource" and event["interaction"] != "delete"
        shown.append(Shown(event, resource is not None, resource if full else None))
    return shown

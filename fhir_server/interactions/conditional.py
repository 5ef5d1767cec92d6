"""The search behind a conditional interaction (R4 http.html#cond-update and friends).

Only resources the caller may see can match: a conditional create, update, patch or
delete acts as if the others did not exist, and never modifies them.
"""

from __future__ import annotations

from ..errors import InvalidRequest, PreconditionFailed
from .caller import Caller

__all__ = ["match_one"]


async def match_one(caller: Caller, resource_type: str, params: list[tuple[str, str]],
                    what: str) -> str | None:
    """The id of the one visible match, None for none, 412 for several."""
    if not params:
        raise InvalidRequest(f"A {what} needs search parameters")
    found = await caller.services.search.match_ids(caller.policy, resource_type, params, 2)
    if len(found) > 1:
        raise PreconditionFailed(f"The {what} matches more than one {resource_type}; "
                                 "be more selective")
    return found[0] if found else None

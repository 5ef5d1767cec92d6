"""history at instance, type and system level (R4 http.html#history).

Versions the caller may not see are left out; an instance history with no visible
version is 404, as for a resource that does not exist.
"""

from __future__ import annotations

from datetime import datetime

from ..ids import check_id
from ..storage import HistoryPage
from .caller import Caller

__all__ = ["history"]


async def history(caller: Caller, resource_type: str | None, rid: str | None, *,
                  since: datetime | None = None, at: tuple[datetime, datetime] | None = None,
                  count: int, after: tuple[datetime, str] | None = None) -> HistoryPage:
    resources = caller.resources
    if resource_type is None:
        types = await resources.history_types()
    else:
        types = [resource_type]
    if rid is not None:
        check_id(rid)
    page = await resources.history(caller.policy, types, rid, since=since, at=at,
                                   count=count, after=after)
    if rid is not None and resource_type is not None and not page.entries and after is None:
        # an unknown (or hidden) resource: 404; a deleted one still has its history
        await resources.read(caller.policy, resource_type, rid)
    return page

"""The resources in one patient's compartment, for changes that must reach all of them
(``Patient/$merge`` moves every one to the surviving patient).

Membership is the ``search._compartments`` index field (:mod:`fhir_server.search.compartments`).
:meth:`CompartmentMembers.of` returns the members the caller's policy shows, and whether
the policy hides any: a change that must be complete is refused then, and the caller learns
nothing about the hidden ones (not their number, type or id).
"""

from __future__ import annotations

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from ..access import AccessPolicy
from ..search.compartments import COMPARTMENTS_FIELD, compartment_definitions
from .filters import MATCH_NOTHING, and_filters

__all__ = ["CompartmentMembers", "Members"]

Members = list[tuple[str, str]]
_APPEND_ONLY = frozenset({"AuditEvent"})


class CompartmentMembers:
    def __init__(self, db: AsyncDatabase) -> None:
        self._db = db

    async def of(self, policy: AccessPolicy, compartment: str,
                 session: AsyncClientSession | None = None) -> tuple[Members, bool]:
        """((type, id) of each member ``policy`` shows, whether it hides any) of the
        ``compartment`` (``Patient/123``), append-only types (AuditEvent) left out."""
        kind = compartment.partition("/")[0]
        types = sorted(({kind, *compartment_definitions().get(kind, {})} - _APPEND_ONLY)
                       & set(await self._db.list_collection_names()))
        shown: Members = []
        hidden = False
        for resource_type in types:
            query = {COMPARTMENTS_FIELD: compartment}
            every = [d["_id"] async for d in self._db[resource_type].find(
                query, {"_id": 1}, session=session)]
            condition = await policy.filter(resource_type)
            if condition is None:
                visible = every
            elif condition == MATCH_NOTHING:
                visible = []
            else:
                visible = [d["_id"] async for d in self._db[resource_type].find(
                    and_filters(query, condition), {"_id": 1}, session=session)]
            hidden = hidden or len(visible) < len(every)
            shown.extend((resource_type, rid) for rid in visible)
        return shown, hidden

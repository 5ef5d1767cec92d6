"""The repository as the server itself uses it: the :data:`~fhir_server.access.SYSTEM`
policy, for the content loaders (shipped terminology and profiles, installed packages,
test fixtures), which write what the server ships, not what a caller asked for."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, TypeVar

from ..access import SYSTEM
from .resources import Indexer, Resources, StoredResource, Version

__all__ = ["SystemWriter"]

T = TypeVar("T")


class SystemWriter:
    """The repository as the server itself uses it (:data:`SYSTEM` policy): for the
    content loaders outside this package (shipped terminology and profiles, installed
    packages), which write what the server ships, not what a caller asked for.

    ``shipped_indexer`` gives the index fields of the versions :meth:`new_versions`
    prepares (the shipped content: without the words of ``_text``/``_content``, which
    would be three quarters of its index); by default the repository's own."""

    def __init__(self, resources: Resources, shipped_indexer: Indexer | None = None) -> None:
        self.resources = resources
        self._shipped = resources
        if shipped_indexer is not None:
            self._shipped = copy.copy(resources)  # the same database and write guards
            self._shipped.indexer = shipped_indexer

    async def in_transaction(self, work: Callable[[Any], Awaitable[T]]) -> T:
        return await self.resources.in_transaction(work)

    async def read(self, resource_type: str, rid: str, session: Any = None
                   ) -> StoredResource:
        return await self.resources.read(SYSTEM, resource_type, rid, session)

    async def update(self, resource: dict[str, Any], rid: str, *, if_match: int | None = None,
                     session: Any = None) -> StoredResource:
        return await self.resources.update(SYSTEM, resource, rid, if_match=if_match,
                                           session=session)

    async def delete(self, resource_type: str, rid: str) -> StoredResource | None:
        return await self.resources.delete(SYSTEM, resource_type, rid)

    async def absent_ids(self, resource_type: str, rids: list[str], session: Any = None
                         ) -> set[str]:
        return await self.resources.absent_ids(resource_type, rids, session)

    async def create_many(self, resources: list[tuple[dict[str, Any], str]], *,
                          session: Any) -> list[StoredResource]:
        return await self.resources.create_many(SYSTEM, resources, session=session)

    def new_versions(self, resources: list[tuple[dict[str, Any], str]], moment: Any
                     ) -> list[Version]:
        """First versions of shipped content: not in the subscription outbox (the server's
        own content is no event a subscriber asked about, and thousands of them would keep
        the dispatcher busy after every first start)."""
        return [replace(v, notify=False)
                for v in self._shipped.new_versions(resources, moment)]

    async def create_versions(self, versions: list[Version], *, session: Any
                              ) -> list[StoredResource]:
        return await self._shipped.create_versions(SYSTEM, versions, session=session)

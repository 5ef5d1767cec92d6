"""Search: SearchParameter-driven index extraction and query compilation.

The rest of the server depends only on :class:`SearchService`; ``engine.SearchEngine``
implements it. Searches take the caller's access policy and plain arguments (no HTTP
request): the storage layer applies the policy to every query a search runs.
Other parts of the server may use :func:`compartment_filter` (e.g. ``$everything``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from .compartments import compartment_filter

if TYPE_CHECKING:
    from ..access import AccessPolicy

__all__ = ["SearchService", "compartment_filter"]


class SearchService(Protocol):
    """Search as the rest of the server sees it."""

    def index(self, resource: dict[str, Any]) -> dict[str, Any]:
        """The search index fields stored with a resource (written with it, never returned)."""

    async def search(
        self,
        policy: AccessPolicy,
        resource_type: str | None,
        params: list[tuple[str, str]],
        *,
        compartment: tuple[str, str] | None = None,
        lenient: bool | None = None,
    ) -> dict[str, Any]:
        """Run a search interaction and return the ``searchset`` Bundle."""

    async def match_ids(self, policy: AccessPolicy, resource_type: str,
                        params: list[tuple[str, str]], limit: int) -> list[str]:
        """Ids of up to ``limit`` resources the caller may see matching a conditional
        interaction's query (unknown parameters are always an error here: 400)."""

    async def query_filter(self, policy: AccessPolicy, resource_type: str,
                           params: list[tuple[str, str]]) -> dict[str, Any]:
        """The MongoDB filter of search parameters on one type (for restrictions built
        from a search query, e.g. SMART v2 scopes); result parameters are refused."""

    def capability(self, resource_type: str) -> list[dict[str, Any]]:
        """``CapabilityStatement.rest.resource.searchParam`` entries for a type."""

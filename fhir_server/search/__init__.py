"""Search: SearchParameter-driven index extraction and query compilation.

The REST core depends only on :class:`SearchService`; ``engine.SearchEngine`` implements it.
Other parts of the server may use :func:`compartment_filter` (e.g. ``$everything``).
"""

from __future__ import annotations

from typing import Any, Protocol

from starlette.requests import Request

from .compartments import compartment_filter

__all__ = ["SearchService", "compartment_filter"]


class SearchService(Protocol):
    """Search as the rest of the server sees it.

    ``restriction`` (on :meth:`search` and :meth:`match_ids`) is an extra MongoDB filter
    on the stored documents (``{_id, vid, lastUpdated, resource, search}``), ANDed into
    the query of every searched type and of every ``_include``/``_revinclude`` target:
    access control narrows results inside the query, so totals and paging stay right.
    Prefer conditions on indexed fields, e.g. ``compartment_filter(type, "Patient", id)``
    (``{"search._compartments": "Patient/<id>"}``).
    """

    def index(self, resource: dict[str, Any]) -> dict[str, Any]:
        """The search index fields stored with a resource (written with it, never returned)."""

    async def search(
        self,
        request: Request,
        resource_type: str | None,
        params: list[tuple[str, str]],
        *,
        compartment: tuple[str, str] | None = None,
        restriction: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Run a search interaction and return the ``searchset`` Bundle."""

    async def match_ids(
        self, resource_type: str, params: list[tuple[str, str]], limit: int, *,
        restriction: dict[str, Any] | None = None,
    ) -> list[str]:
        """Ids of up to ``limit`` resources matching a conditional-interaction query
        (unknown parameters are always an error here: 400)."""

    async def query_filter(self, resource_type: str, params: list[tuple[str, str]]
                           ) -> dict[str, Any]:
        """The MongoDB filter of search parameters on one type (for restrictions built
        from a search query, e.g. SMART v2 scopes); result parameters are refused."""

    def capability(self, resource_type: str) -> list[dict[str, Any]]:
        """``CapabilityStatement.rest.resource.searchParam`` entries for a type."""

    async def ensure_indexes(self) -> None:
        """Create the MongoDB indexes searches need (and resume interrupted reindex jobs)."""

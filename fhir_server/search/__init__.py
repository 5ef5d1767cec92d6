"""Search: SearchParameter-driven index extraction and query compilation.

The REST core depends only on :class:`SearchService`; ``engine.SearchEngine`` implements it.
"""

from __future__ import annotations

from typing import Any, Protocol

from starlette.requests import Request

__all__ = ["SearchService"]


class SearchService(Protocol):
    def index(self, resource: dict[str, Any]) -> dict[str, Any]:
        """The search index fields stored with a resource (written with it, never returned)."""

    async def search(
        self,
        request: Request,
        resource_type: str | None,
        params: list[tuple[str, str]],
        *,
        compartment: tuple[str, str] | None = None,
    ) -> dict[str, Any]:
        """Run a search interaction and return the ``searchset`` Bundle."""

    async def match_ids(
        self, resource_type: str, params: list[tuple[str, str]], limit: int
    ) -> list[str]:
        """Ids of up to ``limit`` resources matching a conditional-interaction query."""

    def capability(self, resource_type: str) -> list[dict[str, Any]]:
        """``CapabilityStatement.rest.resource.searchParam`` entries for a type."""

    async def ensure_indexes(self) -> None:
        """Create the MongoDB indexes searches need."""

"""The MongoDB filter a restricted token's searches are ANDed with.

A search by a token whose grants are limited (patient compartment, v2 ``?query``) gets
``OR(grant filters)``, each grant filter being ``AND(compartment filter, query filter)``.
The filters are compiled by the search service, so they mean exactly what the search
parameters mean; hidden resources are never matched, included or counted.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from ..errors import Forbidden
from .enforce import search_grants
from .grants import Grant

__all__ = ["search_restriction", "restriction_of", "grant_filter"]

_NOTHING: dict[str, Any] = {"_id": {"$in": []}}


def grant_filter(search: Any, resource_type: str, grant: Grant) -> dict[str, Any]:
    if grant.hidden:
        return _NOTHING
    clauses: list[dict[str, Any]] = []
    if grant.patient is not None:
        clauses.append(search.compartment_filter(resource_type, "Patient", grant.patient))
    if grant.query:
        clauses.append(search.query_filter(resource_type, list(grant.query)))
    if not clauses:
        return {}
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def search_restriction(request: Request, resource_type: str | None) -> dict[str, Any] | None:
    """The filter for a search on ``resource_type``; None when the token is unrestricted."""
    grants = search_grants(request, resource_type or "*")
    if grants is None:
        return None
    if resource_type is None:
        raise Forbidden("A patient-context or query-restricted token searches one resource "
                        "type at a time")
    search = request.app.state.services.search
    if not hasattr(search, "compartment_filter") or not hasattr(search, "query_filter"):
        raise Forbidden("Restricted searches need the search service's compartment filters")
    filters = [grant_filter(search, resource_type, grant) for grant in grants]
    return filters[0] if len(filters) == 1 else {"$or": filters}


def restriction_of(request: Request, resource_type: str | None) -> dict[str, Any]:
    """Keyword arguments for ``SearchService.search``: ``restriction=`` when restricted."""
    restriction = search_restriction(request, resource_type)
    return {} if restriction is None else {"restriction": restriction}

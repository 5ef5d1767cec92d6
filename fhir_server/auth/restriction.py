"""The MongoDB filter a token's searches are ANDed with, inside the query.

One filter serves the searched type and every ``_include`` / ``_revinclude`` target, so
it names the resource type of each document (``resource.resourceType``)::

    OR( {type: T, OR(grant filters for T)}       for each type T a scope names,
        {type not in those, wildcard grant filter} for ``*`` scopes )

A grant filter is the patient compartment (the search index's indexed
``search._compartments``, through ``compartment_filter``) and/or a v2 query restriction
compiled by the search service (``query_filter``). Hidden
resources are therefore never matched, included or counted; a token with no grant for
a type sees none of it, not even through ``_include``. An unrestricted ``*`` grant needs
no filter at all.
"""

from __future__ import annotations

import inspect
from typing import Any

from starlette.requests import Request

from ..errors import Forbidden
from ..search import compartment_filter
from .compartment import patient_compartment_types
from .context import AccessContext, access_context
from .enforce import current_access
from .grants import PATIENT_HIDDEN_TYPES, Grant, grants_for

__all__ = ["search_restriction", "restriction_of", "current_restriction",
           "token_restriction"]

_NOTHING: dict[str, Any] = {"_id": {"$in": []}}
_TYPE = "resource.resourceType"


def _search_grants(context: AccessContext, resource_type: str) -> list[Grant]:
    """Grants to see resources of a type in search results (read or search permission)."""
    found = grants_for(context, "s", resource_type)
    found += [g for g in grants_for(context, "r", resource_type) if g not in found]
    return [Grant()] if Grant() in found else found


def _any_type_compartment(patient: str) -> dict[str, Any]:
    """The patient's compartment in any type, plus the shared types outside it."""
    hidden = sorted(patient_compartment_types() | PATIENT_HIDDEN_TYPES)
    return {"$or": [compartment_filter("Patient", "Patient", patient),
                    {_TYPE: {"$nin": hidden}}]}


def _and(clause: dict[str, Any]) -> dict[str, Any]:
    """A clause that can be merged into a document with a ``resource.resourceType`` key."""
    return clause if _TYPE not in clause else {"$and": [clause]}


async def _grant_filter(search: Any, resource_type: str, grant: Grant
                        ) -> dict[str, Any] | None:
    if grant.hidden:
        return None
    parts: list[dict[str, Any]] = []
    if grant.patient is not None:
        if resource_type == "*":
            parts.append(_any_type_compartment(grant.patient))
        else:
            clause = compartment_filter(resource_type, "Patient", grant.patient)
            parts.append(clause if clause is not None else {})
    if grant.query:
        if resource_type == "*" or not hasattr(search, "query_filter"):
            raise Forbidden("This server cannot apply the query restriction of the token's "
                            f"scope on {resource_type} to searches")
        parts.append(await search.query_filter(resource_type, list(grant.query)))
    parts = [p for p in parts if p]
    if not parts:
        return {}
    return parts[0] if len(parts) == 1 else {"$and": parts}


async def _type_filter(search: Any, resource_type: str, grants: list[Grant]
                       ) -> dict[str, Any] | None:
    """What of a type the grants show: None nothing, ``{}`` everything, else a filter."""
    filters = [f for f in [await _grant_filter(search, resource_type, g) for g in grants]
               if f is not None]
    if not filters:
        return None
    if {} in filters:
        return {}
    return filters[0] if len(filters) == 1 else {"$or": filters}


async def token_restriction(context: AccessContext, search: Any) -> dict[str, Any] | None:
    """The filter for a token's searches; None when it may see everything."""
    wildcard = _search_grants(context, "*")
    if wildcard == [Grant()]:
        return None
    named = sorted({s.resource_type for s in context.scopes.resources} - {"*"})
    clauses: list[dict[str, Any]] = []
    for resource_type in named:
        shown = await _type_filter(search, resource_type,
                                   _search_grants(context, resource_type))
        if shown is not None:
            clauses.append({_TYPE: resource_type, **_and(shown)})
    shown = await _type_filter(search, "*", wildcard)
    if shown is not None:
        clauses.append({_TYPE: {"$nin": named}, **_and(shown)})
    if not clauses:
        return _NOTHING
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}


async def search_restriction(request: Request, resource_type: str | None
                             ) -> dict[str, Any] | None:
    """The filter for a search request (``resource_type`` is informational: one filter
    covers the searched type and its includes)."""
    if getattr(request.app.state.settings, "auth", "off") != "smart":
        return None
    from ..privacy import with_consent

    context = access_context(request)
    if context is None:
        return _NOTHING
    return await with_consent(
        request, await token_restriction(context, request.app.state.services.search))


def _keyword(method: Any, restriction: dict[str, Any] | None) -> dict[str, Any]:
    if restriction is None:
        return {}
    if "restriction" not in inspect.signature(method).parameters:
        raise Forbidden("Searches with a restricted token need a search service that "
                        "takes restrictions")
    return {"restriction": restriction}


async def restriction_of(request: Request, resource_type: str | None) -> dict[str, Any]:
    """Keyword arguments for ``SearchService.search``: ``restriction=`` when restricted."""
    restriction = await search_restriction(request, resource_type)
    return _keyword(request.app.state.services.search.search, restriction)


async def current_restriction(search: Any) -> dict[str, Any]:
    """Keyword arguments for ``SearchService.match_ids`` (conditional interactions,
    transaction entries), from the current request's access context."""
    context = current_access.get()
    if context is None:
        return {}
    return _keyword(search.match_ids, await token_restriction(context, search))

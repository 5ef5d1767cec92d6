"""Deciding, before anything is written, what each entry of a Bundle will touch.

For each write entry: the id it creates, updates, patches or deletes (a new id for a
create, the match of a conditional URL, the resource an ``ifNoneExist`` found), then the
map from fullUrls to ``Type/id`` and the targets of conditional references (R4 http.html
"Transaction Processing Rules" and "Conditional References").

Searches run against committed data, through the caller's access policy: only resources
the caller may see can match (as in the REST conditional interactions). A conditional
reference whose search is also the condition of a create or update in the same Bundle
resolves to that entry, so a Bundle may create a resource and refer to it by identifier.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from ..errors import InvalidRequest, InvalidResource, NotFound
from ..interactions import Caller, match_one
from .entries import Entry, parse_query
from .references import ReferenceMap, conditional_references

__all__ = ["Plan", "plan_target", "link_full_urls", "resolve_conditional_references"]

QueryKey = tuple[str, tuple[tuple[str, str], ...]]


def _query_key(resource_type: str, params: list[tuple[str, str]]) -> QueryKey:
    """Two spellings of one search (parameter order aside) share a key."""
    return resource_type, tuple(sorted(params))


@dataclass
class Plan:
    """What planning learnt about the whole Bundle."""

    links: ReferenceMap = field(default_factory=dict)
    conditional_targets: dict[QueryKey, str] = field(default_factory=dict)
    first_with_condition: dict[QueryKey, int] = field(default_factory=dict)
    aliases: dict[int, int] = field(default_factory=dict)  # entry -> earlier identical create
    resolved: dict[tuple[str, str], str] = field(default_factory=dict)
    targets: dict[tuple[str, str], int] = field(default_factory=dict)


async def plan_target(caller: Caller, entry: Entry, plan: Plan) -> None:
    """Set ``entry.target_id`` (and ``entry.existing`` for a satisfied ifNoneExist)."""
    assert entry.resource_type is not None
    if entry.method == "POST":
        await _plan_create(caller, entry, plan)
    elif entry.id is not None:
        entry.target_id = entry.id
    else:
        assert entry.query is not None
        entry.target_id = await match_one(caller, entry.resource_type, entry.query,
                                          f"conditional {entry.method.lower()}")
        if entry.method == "PUT":
            _plan_conditional_update(entry, plan)
        elif entry.method == "PATCH" and entry.target_id is None:
            raise NotFound(f"No {entry.resource_type} matches the conditional patch")
    _claim(entry, plan)


def _claim(entry: Entry, plan: Plan) -> None:
    """One resource, one entry: a Bundle may not write the same resource twice."""
    if entry.target_id is None or entry.index in plan.aliases:
        return
    key = (entry.resource_type or "", entry.target_id)
    if key in plan.targets:
        raise InvalidRequest(
            f"{key[0]}/{key[1]} is also written by Bundle.entry[{plan.targets[key]}]; "
            "a Bundle may change a resource only once"
        )
    plan.targets[key] = entry.index


async def _plan_create(caller: Caller, entry: Entry, plan: Plan) -> None:
    assert entry.resource_type is not None
    if entry.if_none_exist is None:
        entry.target_id = str(uuid.uuid4())
        return
    key = _query_key(entry.resource_type, entry.if_none_exist)
    if key in plan.first_with_condition:
        plan.aliases[entry.index] = plan.first_with_condition[key]
        entry.target_id = plan.conditional_targets[key]
        return
    found = await match_one(caller, entry.resource_type, entry.if_none_exist, "ifNoneExist")
    if found is not None:
        entry.existing = await caller.resources.read(caller.policy, entry.resource_type,
                                                     found)
    entry.target_id = found or str(uuid.uuid4())
    plan.conditional_targets[key] = entry.target_id
    plan.first_with_condition[key] = entry.index


def _plan_conditional_update(entry: Entry, plan: Plan) -> None:
    assert entry.resource is not None and entry.resource_type and entry.query is not None
    body_id = entry.resource.get("id")
    if entry.target_id is not None and body_id is not None and body_id != entry.target_id:
        raise InvalidResource(f"The resource id '{body_id}' is not the id of the matching "
                              f"resource ('{entry.target_id}')")
    entry.target_id = entry.target_id or body_id or str(uuid.uuid4())
    plan.conditional_targets.setdefault(_query_key(entry.resource_type, entry.query),
                                        entry.target_id)


def link_full_urls(entry: Entry, plan: Plan) -> None:
    """Record ``fullUrl -> Type/id`` for an entry that creates or updates a resource."""
    if entry.method not in ("POST", "PUT") or entry.target_id is None or not entry.full_url:
        return
    if entry.full_url in plan.links:
        raise InvalidRequest(f"fullUrl '{entry.full_url[:200]}' appears on more than one entry")
    plan.links[entry.full_url] = f"{entry.resource_type}/{entry.target_id}"


async def resolve_conditional_references(caller: Caller, entry: Entry, plan: Plan) -> None:
    """Find the one resource each conditional reference of the entry's resource names."""
    for resource_type, query in sorted(conditional_references(entry.resource)):
        if (resource_type, query) in plan.resolved:
            continue
        params = parse_query(query)
        if not params:
            raise InvalidRequest(f"Conditional reference '{resource_type}?{query[:200]}' has "
                                 "no search parameters")
        target = plan.conditional_targets.get(_query_key(resource_type, params))
        if target is None:
            target = await match_one(caller, resource_type, params,
                                     f"conditional reference '{resource_type}?{query[:200]}'")
        if target is None:
            raise NotFound(f"Conditional reference '{resource_type}?{query[:200]}' matches no "
                           f"{resource_type}")
        plan.resolved[(resource_type, query)] = f"{resource_type}/{target}"

"""Extracting a resource's search index at write time.

``search.<code>`` holds the entries of each parameter that has values (see the parameter
type modules for their shape), ``search._sort.<code>`` the ascending/descending sort keys,
``search._coarse.<code>`` the months a date parameter's values touch (for range queries),
``search._geo.<code>`` the GeoJSON point of a position (``near``, under a 2dsphere index),
``search._compartments`` the compartments the resource is in, and ``search._pair.<name>``
the pair keys of its type (:mod:`.pairs`).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from .compartments import compartment_memberships
from .definitions import Registry
from .pairs import PAIR_FIELD, pair_keys
from .parameters import IndexContext
from .parameters.date import COARSE_FIELD
from .parameters.near import GEO_FIELD

__all__ = ["index_resource", "SORT_FIELD"]

log = logging.getLogger(__name__)
SORT_FIELD = "_sort"


def index_resource(
    registry: Registry, resource: dict[str, Any], context: IndexContext
) -> dict[str, Any]:
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str):
        return {}
    context = replace(context, resource=resource)
    index: dict[str, Any] = {}
    sort: dict[str, Any] = {}
    coarse: dict[str, Any] = {}
    geo: dict[str, Any] = {}
    for parameter in registry.indexed(resource_type):
        try:
            nodes = registry.extractor(resource_type, parameter)(resource)
            if not nodes:
                continue
            handler = registry.handler(resource_type, parameter)
            entries = handler.entries(nodes, context)
        except Exception:  # one odd value must never fail a write
            log.exception("extracting %s.%s failed", resource_type, parameter.code)
            continue
        if not entries:
            continue
        index[parameter.code] = entries
        keys = handler.sort_values(entries)
        if keys is not None:
            sort[parameter.code] = {"a": keys[0], "d": keys[1]}
        buckets = getattr(handler, "coarse_keys", None)
        if buckets is not None:
            coarse[parameter.code] = buckets(entries)
        geo_value = getattr(handler, "geo_value", None)
        if geo_value is not None:
            geo[parameter.code] = geo_value(entries)
    if sort:
        index[SORT_FIELD] = sort
    if coarse:
        index[COARSE_FIELD] = coarse
    if geo:
        index[GEO_FIELD] = geo
    memberships = compartment_memberships(resource_type, resource.get("id"), index)
    if memberships:
        index["_compartments"] = memberships
    pairs = pair_keys(resource_type, index)
    if pairs:
        index[PAIR_FIELD] = pairs
    return index

"""Combining MongoDB filters."""

from __future__ import annotations

from typing import Any

from consent.expressions import MATCH_NOTHING

__all__ = ["and_filters", "MATCH_NOTHING"]


def and_filters(*filters: dict[str, Any] | None) -> dict[str, Any]:
    """AND of MongoDB filters, keeping keys flat when they do not collide (a flat filter
    lets a query planner use an index for any of its conditions)."""
    result: dict[str, Any] = {}
    extra: list[dict[str, Any]] = []
    for item in filters:
        if not item:
            continue
        if item == MATCH_NOTHING:
            return MATCH_NOTHING
        if result.keys() & item.keys():
            extra.append(item)
        else:
            result.update(item)
    if extra:
        result["$and"] = [*result.get("$and", []), *extra]
    return result

"""Running a compiled search: one keyset page, the total and the included resources."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..access import AccessPolicy
from ..storage import Found, Queries
from ..storage.filters import and_filters
from .definitions import Registry
from .includes import IncludeResolver
from .paging import (
    Cursor,
    SortField,
    after_filter,
    compare_rows,
    decode_cursor,
    encode_cursor,
    mongo_sort,
    row_values,
    signature,
    sort_fields,
)
from .results import ResultParameters

__all__ = ["Page", "run_search", "count_matches"]


@dataclass
class Page:
    matches: list[Found] = field(default_factory=list)
    included: list[Found] = field(default_factory=list)
    total: int | None = None
    next_cursor: str | None = None
    previous_cursor: str | None = None


def _projection(fields: list[SortField], results: ResultParameters) -> dict[str, int]:
    """The resource, the sort keys, and the references forward includes follow."""
    if any(i.parameter is None or i.iterate for i in results.includes):
        return {"resource": 1, "search": 1}
    projection = {"resource": 1}
    projection.update({f.field: 1 for f in fields if f.field.startswith("search.")})
    projection.update({f"search.{i.parameter.code}.r": 1 for i in results.includes
                       if i.parameter is not None})
    return projection


def _ties(resource_type: str, cursor: Cursor, fields: list[SortField], single: bool) -> str:
    if single or resource_type == cursor.resource_type:
        return "after-id"
    ascending = fields[-1].descending == cursor.backwards
    later = (resource_type > cursor.resource_type) == ascending
    return "all" if later else "none"


async def count_matches(queries: Queries, policy: AccessPolicy,
                        filters: dict[str, dict[str, Any]], estimate: bool = False) -> int:
    total = 0
    for resource_type, query in filters.items():
        total += await queries.count(policy, resource_type, query, estimate=estimate)
    return total


async def run_search(queries: Queries, policy: AccessPolicy, registry: Registry,
                     filters: dict[str, dict[str, Any]], results: ResultParameters) -> Page:
    """One page of matches (``filters``: the MongoDB filter per resource type)."""
    fields = sort_fields(results.sort)
    sort_signature = signature(fields)
    cursor = (decode_cursor(results.cursor, sort_signature, len(fields))
              if results.cursor else None)
    backwards = cursor.backwards if cursor else False
    page = Page()
    if results.summary == "count" or results.count == 0:
        page.total = await count_matches(queries, policy, filters)
        return page
    rows: list[tuple[list[Any], str, Found]] = []
    projection = _projection(fields, results)
    for resource_type, query in filters.items():
        if cursor is not None:
            ties = _ties(resource_type, cursor, fields, len(filters) == 1)
            after = after_filter(fields, cursor.values, backwards, ties)
            if after is None:
                continue
            query = and_filters(query, after)
        found = await queries.find(policy, resource_type, query, projection=projection,
                                   sort=mongo_sort(fields, backwards),
                                   limit=results.count + 1)
        rows.extend((row_values(fields, f.doc), resource_type, f) for f in found)
    if len(filters) > 1:
        key = compare_rows(fields, backwards)
        rows.sort(key=lambda row: key((row[0], row[1])))
    more = len(rows) > results.count
    rows = rows[: results.count]
    if backwards:
        rows.reverse()
    page.matches = [f for _, _, f in rows]
    if rows and (more or backwards):
        last = rows[-1]
        page.next_cursor = encode_cursor(Cursor(last[0], last[1], False), sort_signature)
    if rows and cursor is not None and (more or not backwards):
        first = rows[0]
        page.previous_cursor = encode_cursor(Cursor(first[0], first[1], True), sort_signature)
    if results.total == "accurate" or results.total == "estimate":
        page.total = await count_matches(queries, policy, filters,
                                         results.total == "estimate")
    elif results.total is None and cursor is None and not more:
        page.total = len(rows)
    if results.includes or results.revincludes:
        resolver = IncludeResolver(queries, policy, registry)
        page.included = await resolver.resolve(page.matches, results.includes,
                                               results.revincludes)
    return page

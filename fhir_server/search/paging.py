"""Keyset paging: sort order, cursors and the "after this row" filter.

A page is ``sort(...).limit(count + 1)`` after the last row of the previous page, never a
skip: the cursor in the ``next`` link carries that row's sort values, resource type and
id, so pages stay correct while data changes and nothing is kept on the server. The
``previous`` link walks the same order backwards from the first row of the page.
Missing sort values sort first ascending and last descending, as MongoDB orders them.
"""

from __future__ import annotations

import base64
import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from bson.decimal128 import Decimal128

from ..errors import InvalidRequest
from ..storage.filters import and_filters
from .index import SORT_FIELD
from .results import SortKey

__all__ = ["SortField", "Cursor", "sort_fields", "mongo_sort", "after_filter",
           "encode_cursor", "decode_cursor", "row_values", "compare_rows", "signature"]


@dataclass(frozen=True)
class SortField:
    field: str
    descending: bool


@dataclass(frozen=True)
class Cursor:
    values: list[Any]  # one per sort field, the last being the id
    resource_type: str
    backwards: bool


def sort_fields(keys: list[SortKey]) -> list[SortField]:
    """The document fields of a ``_sort``, always ending with ``_id`` as tie-breaker."""
    fields = []
    for key in keys:
        if key.code == "_id":
            fields.append(SortField("_id", key.descending))
            return fields
        suffix = "d" if key.descending else "a"
        fields.append(SortField(f"search.{SORT_FIELD}.{key.code}.{suffix}", key.descending))
    fields.append(SortField("_id", False))
    return fields


def signature(fields: list[SortField]) -> str:
    return ",".join(("-" if f.descending else "") + f.field for f in fields)


def mongo_sort(fields: list[SortField], backwards: bool) -> list[tuple[str, int]]:
    return [(f.field, -1 if f.descending != backwards else 1) for f in fields]


def _beyond(field: str, value: Any, descending: bool) -> dict[str, Any] | None:
    if not descending:
        return {field: {"$ne": None}} if value is None else {field: {"$gt": value}}
    if value is None:
        return None
    return {"$or": [{field: {"$lt": value}}, {field: None}]}


def after_filter(fields: list[SortField], values: list[Any], backwards: bool,
                 ties: str = "after-id") -> dict[str, Any] | None:
    """Rows strictly after ``values`` in the (possibly reversed) order.

    ``ties`` says what to do with rows whose sort values all equal ``values``: compare
    ids (``after-id``), keep them all (``all``, another collection later in the order) or
    drop them (``none``, one earlier in the order). None means no row can follow.
    """
    compared = fields if ties == "after-id" else fields[:-1]
    options = []
    for i, sort_field in enumerate(compared):
        beyond = _beyond(sort_field.field, values[i], sort_field.descending != backwards)
        if beyond is not None:
            equal = {fields[j].field: values[j] for j in range(i)}
            options.append(and_filters(equal, beyond))
    if ties == "all":
        options.append({fields[j].field: values[j] for j in range(len(fields) - 1)})
    if not options:
        return None
    return options[0] if len(options) == 1 else {"$or": options}


def row_values(fields: list[SortField], doc: dict[str, Any]) -> list[Any]:
    values = []
    for sort_field in fields:
        value: Any = doc
        for part in sort_field.field.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        values.append(value)
    return values


def _compare(a: Any, b: Any) -> int:
    if a == b:
        return 0
    if a is None:
        return -1
    if b is None:
        return 1
    if isinstance(a, Decimal128):
        a, b = a.to_decimal(), b.to_decimal() if isinstance(b, Decimal128) else b
    return -1 if a < b else 1


def compare_rows(fields: list[SortField], backwards: bool) -> Any:
    """A sort key for rows ``(values, resource_type, id)`` from several collections."""

    def compare(left: tuple[list[Any], str], right: tuple[list[Any], str]) -> int:
        for i, sort_field in enumerate(fields[:-1]):
            order = _compare(left[0][i], right[0][i])
            if order:
                return -order if sort_field.descending != backwards else order
        order = _compare((left[1], left[0][-1]), (right[1], right[0][-1]))
        return -order if fields[-1].descending != backwards else order

    return functools.cmp_to_key(compare)


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, Decimal128):
        return {"$d": str(value)}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and "$dt" in value:
        return datetime.fromisoformat(value["$dt"])
    if isinstance(value, dict) and "$d" in value:
        return Decimal128(value["$d"])
    if isinstance(value, dict | list):
        raise ValueError("unexpected value")
    return value


def encode_cursor(cursor: Cursor, sort_signature: str) -> str:
    payload = {"k": [_encode_value(v) for v in cursor.values], "t": cursor.resource_type,
               "b": cursor.backwards, "s": sort_signature}
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def decode_cursor(token: str, sort_signature: str, field_count: int) -> Cursor:
    try:
        payload = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if payload["s"] != sort_signature or len(payload["k"]) != field_count:
            raise ValueError("cursor of another search")
        values = [_decode_value(v) for v in payload["k"]]
        if not isinstance(payload["t"], str) or not isinstance(values[-1], str):
            raise ValueError("bad cursor")
        return Cursor(values, payload["t"], bool(payload["b"]))
    except (ValueError, TypeError, KeyError, IndexError, orjson.JSONDecodeError):
        raise InvalidRequest("Invalid or expired paging cursor (_cursor)") from None

"""Opaque paging cursors carried in ``next`` links (no server memory, no skip).

A cursor is a list of JSON scalars and datetimes. Decoding accepts nothing else, so a
tampered cursor can never smuggle an object (a MongoDB operator) into a query.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

import orjson

from ..errors import InvalidRequest

__all__ = ["encode_cursor", "decode_cursor"]

_DATETIME = "$dt"


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {_DATETIME: value.isoformat()}
    raise TypeError(type(value).__name__)


def encode_cursor(values: list[Any]) -> str:
    token = orjson.dumps(values, default=_encode_value, option=orjson.OPT_PASSTHROUGH_DATETIME)
    return base64.urlsafe_b64encode(token).decode().rstrip("=")


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and list(value) == [_DATETIME] and isinstance(value[_DATETIME],
                                                                               str):
        moment = datetime.fromisoformat(value[_DATETIME])
        if moment.tzinfo is None:
            raise ValueError("naive datetime")
        return moment
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise ValueError("not a scalar")


def decode_cursor(token: str) -> list[Any]:
    try:
        padded = token + "=" * (-len(token) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded))
        if not isinstance(values, list):
            raise ValueError("not a list")
        return [_decode_value(v) for v in values]
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise InvalidRequest("Invalid or expired paging cursor") from None

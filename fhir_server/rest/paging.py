"""Opaque paging cursors carried in ``next`` links (no server memory, no skip)."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import orjson

from ..errors import InvalidRequest

__all__ = ["encode_cursor", "decode_cursor"]


def encode_cursor(values: list[Any]) -> str:
    def default(value: Any) -> Any:
        if isinstance(value, datetime):
            return {"$dt": value.isoformat()}
        raise TypeError(type(value).__name__)

    return base64.urlsafe_b64encode(orjson.dumps(values, default=default)).decode().rstrip("=")


def decode_cursor(token: str) -> list[Any]:
    try:
        padded = token + "=" * (-len(token) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded))
        if not isinstance(values, list):
            raise ValueError("not a list")
        return [
            datetime.fromisoformat(v["$dt"]) if isinstance(v, dict) and "$dt" in v else v
            for v in values
        ]
    except (ValueError, TypeError, KeyError, orjson.JSONDecodeError):
        raise InvalidRequest("Invalid or expired paging cursor") from None

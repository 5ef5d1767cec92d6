"""FHIR JSON in and out, keeping decimals exactly as the client wrote them.

FHIR decimals carry their precision (``1.50`` is not ``1.5``), so JSON numbers with a
fraction or exponent are parsed as :class:`decimal.Decimal`, stored as BSON Decimal128
and written back verbatim through ``orjson.Fragment``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import orjson
from bson.decimal128 import Decimal128

from .errors import InvalidRequest

__all__ = ["parse_json", "dump_json", "to_bson", "from_bson"]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate property '{key}'")
        result[key] = value
    return result


def parse_json(body: bytes | str) -> Any:
    """Parse a JSON body; malformed input raises :class:`InvalidRequest` (HTTP 400)."""
    try:
        if isinstance(body, bytes):
            body = body.decode("utf-8-sig")
        return json.loads(
            body,
            parse_float=Decimal,
            parse_constant=_reject_constant,
            object_pairs_hook=_unique_object,
        )
    except UnicodeDecodeError as exc:
        raise InvalidRequest(f"Request body is not valid UTF-8: {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise InvalidRequest(f"Malformed JSON: {exc}") from None


def _default(value: Any) -> Any:
    if isinstance(value, Decimal128):
        return orjson.Fragment(str(value.to_decimal()).encode())
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value).encode())
    raise TypeError(f"cannot serialise {type(value).__name__}")


def dump_json(value: Any, pretty: bool = False) -> bytes:
    option = orjson.OPT_INDENT_2 if pretty else 0
    return orjson.dumps(value, default=_default, option=option)


def to_bson(value: Any) -> Any:
    """Copy a parsed resource into BSON-ready form (Decimal becomes Decimal128)."""
    if isinstance(value, dict):
        return {key: to_bson(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_bson(item) for item in value]
    if isinstance(value, Decimal):
        return Decimal128(value)
    return value


def from_bson(value: Any) -> Any:
    """Inverse of :func:`to_bson`: Decimal128 becomes Decimal again."""
    if isinstance(value, dict):
        return {key: from_bson(item) for key, item in value.items()}
    if isinstance(value, list):
        return [from_bson(item) for item in value]
    if isinstance(value, Decimal128):
        return value.to_decimal()
    return value

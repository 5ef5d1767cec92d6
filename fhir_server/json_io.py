"""FHIR JSON in and out, keeping decimals exactly as the client wrote them.

FHIR decimals carry their precision (``1.50`` is not ``1.5``), so JSON numbers with a
fraction or exponent are parsed as :class:`decimal.Decimal`, stored as BSON Decimal128
and written back verbatim through ``orjson.Fragment``.
"""

from __future__ import annotations

import json
from decimal import Decimal, DecimalException
from typing import Any

import orjson
from bson.decimal128 import Decimal128

from .errors import InvalidRequest, InvalidResource

__all__ = ["parse_json", "dump_json", "to_bson", "from_bson", "MAX_DEPTH"]

MAX_DEPTH = 90
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


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


def to_bson(value: Any, depth: int = 0) -> Any:
    """Copy a parsed resource into BSON-ready form (Decimal becomes Decimal128).

    What MongoDB cannot hold exactly is refused with :class:`InvalidResource` (HTTP 400):
    integers beyond 64 bits, decimals beyond Decimal128's 34 digits, and nesting deeper
    than MongoDB's 100 levels (less the levels of the stored document around it).
    """
    if isinstance(value, dict):
        if depth > MAX_DEPTH:
            raise InvalidResource(f"The resource is nested more than {MAX_DEPTH} levels deep")
        return {key: to_bson(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        if depth > MAX_DEPTH:
            raise InvalidResource(f"The resource is nested more than {MAX_DEPTH} levels deep")
        return [to_bson(item, depth + 1) for item in value]
    if isinstance(value, Decimal):
        try:
            return Decimal128(value)
        except DecimalException:
            raise InvalidResource(
                f"The decimal {str(value)[:60]} has more than 34 significant digits or an "
                "exponent out of range"
            ) from None
    if isinstance(value, int) and not isinstance(value, bool) and not (
        _INT64_MIN <= value <= _INT64_MAX
    ):
        raise InvalidResource(f"The integer {str(value)[:60]} is out of range")
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

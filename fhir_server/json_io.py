"""FHIR JSON in and out, keeping decimals exactly as the client wrote them.

FHIR decimals carry their precision (``1.50`` is not ``1.5``), so JSON numbers with a
fraction or exponent are parsed as :class:`decimal.Decimal`, stored as BSON Decimal128
and written back verbatim through ``orjson.Fragment``. Strings must be Unicode
(https://hl7.org/fhir/R4/json.html: FHIR JSON is UTF-8): a lone UTF-16 surrogate escape
such as ``"\\ud800"`` is refused when the body is parsed, so it never reaches validation
or the database.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, DecimalException
from typing import Any

import orjson
from bson.decimal128 import Decimal128

from .errors import InvalidRequest, InvalidResource

__all__ = ["parse_json", "dump_json", "to_bson", "from_bson", "MAX_DEPTH"]

MAX_DEPTH = 90
_INT64_MIN, _INT64_MAX, _UINT64_MAX = -(2**63), 2**63 - 1, 2**64 - 1
_DECIMAL128_INTEGERS = 10**34  # integers below this are exact in Decimal128, digit for digit
# ``\uD800``-``\uDFFF`` escapes: only a body holding one can decode to a lone surrogate.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")
_NOT_UNICODE = ("The request body holds a string that is not valid Unicode (a lone UTF-16 "
                "surrogate escape, \\uD800-\\uDFFF without its pair)")


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
    """Parse a JSON body; malformed input raises :class:`InvalidRequest` (HTTP 400), and so
    does any string (property name or value) that is not valid Unicode."""
    try:
        if isinstance(body, bytes):
            text = body.decode("utf-8-sig")  # strict UTF-8 never decodes to a surrogate
        elif _SURROGATE.search(body):
            raise InvalidRequest(_NOT_UNICODE)
        else:
            text = body
        value = json.loads(
            text,
            parse_float=Decimal,
            parse_constant=_reject_constant,
            object_pairs_hook=_unique_object,
        )
    except UnicodeDecodeError as exc:
        raise InvalidRequest(f"Request body is not valid UTF-8: {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise InvalidRequest(f"Malformed JSON: {exc}") from None
    if _SURROGATE_ESCAPE.search(text) and _holds_surrogate(value):
        raise InvalidRequest(_NOT_UNICODE)
    return value


def _holds_surrogate(value: Any) -> bool:
    """Whether any string in ``value`` holds a surrogate code point (a pair of escapes
    for one character decodes to that character, so what is left is a lone half)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _default(value: Any) -> Any:
    if isinstance(value, Decimal128):
        return orjson.Fragment(str(value.to_decimal()).encode())
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value).encode())
    raise TypeError(f"cannot serialise {type(value).__name__}")


def dump_json(value: Any, pretty: bool = False) -> bytes:
    """``value`` as JSON. Never fails on content: strings that are not valid Unicode (which
    only server-made text, such as an error message quoting a client's string, could hold)
    get U+FFFD in place of each lone surrogate, and integers beyond 64 bits are written
    digit for digit."""
    option = orjson.OPT_INDENT_2 if pretty else 0
    try:
        return orjson.dumps(value, default=_default, option=option)
    except TypeError:
        return orjson.dumps(_writable(value), default=_default, option=option)


def _writable(value: Any) -> Any:
    if isinstance(value, dict):
        return {_writable(key): _writable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_writable(item) for item in value]
    if isinstance(value, str) and _SURROGATE.search(value):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, int) and not isinstance(value, bool) and not (
        _INT64_MIN <= value <= _UINT64_MAX
    ):
        return orjson.Fragment(str(value).encode())
    return value


def to_bson(value: Any, depth: int = 0) -> Any:
    """Copy a parsed resource into BSON-ready form (Decimal becomes Decimal128).

    An integer beyond 64 bits (a valid FHIR ``decimal``: FHIR ``integer`` is 32-bit and
    validation refuses larger ones) is stored as Decimal128 when it has at most 34 digits,
    so it is written back as sent.
    What MongoDB cannot hold exactly is refused with :class:`InvalidResource` (HTTP 400):
    numbers beyond Decimal128's 34 digits, and nesting deeper than MongoDB's 100 levels
    (less the levels of the stored document around it).
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
        if abs(value) >= _DECIMAL128_INTEGERS:
            raise InvalidResource("An integer in the resource has more than 34 digits")
        return Decimal128(Decimal(value))
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

"""FHIR primitive types, compiled from their StructureDefinitions.

Each primitive's ``value`` element carries the lexical regex (extension
``structuredefinition-regex``), and for integers ``minValueInteger``/``maxValueInteger``;
the JSON representation (string, number or boolean) follows the base-type chain
(https://hl7.org/fhir/R4/datatypes.html#primitive, https://hl7.org/fhir/R4/json.html#primitive).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from .definitions import structure_definition

__all__ = ["PrimitiveType", "primitive_type", "is_primitive", "json_kind_of"]

_REGEX_URL = "http://hl7.org/fhir/StructureDefinition/regex"
_BASE_PREFIX = "http://hl7.org/fhir/StructureDefinition/"
_JSON_KINDS = {"boolean": "boolean", "integer": "integer", "decimal": "decimal"}
_EXPECTED = {"boolean": "true or false", "integer": "number without a fraction",
             "decimal": "number", "string": "string"}
_CALENDAR_TYPES = frozenset({"date", "dateTime", "instant"})
_CALENDAR_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# The spec's base64Binary regex ``(\s*([0-9a-zA-Z\+/=]){4}\s*)+`` backtracks exponentially
# on a near-miss; this one accepts the same strings in linear time.
_LINEAR_EQUIVALENTS = {"base64Binary": r"\s*+(?:[0-9a-zA-Z+/=]{4}\s*+)++"}


@dataclass(frozen=True)
class PrimitiveType:
    """The rules for one primitive type: JSON kind, lexical regex, bounds, length."""

    name: str
    json_kind: str  # "boolean", "integer", "decimal" or "string"
    pattern: re.Pattern[str] | None
    min_value: int | None
    max_value: int | None
    max_length: int | None

    def problem(self, value: Any) -> str | None:
        """Why ``value`` (parsed JSON) is not a valid ``name``, or None when it is."""
        if value.__class__ is str:
            if self.json_kind != "string":
                return self._wrong_kind(value, _EXPECTED[self.json_kind])
            return self._string_problem(value)
        if self.json_kind == "boolean":
            return None if isinstance(value, bool) else self._wrong_kind(value, "true or false")
        if self.json_kind == "integer":
            return self._integer_problem(value)
        if self.json_kind == "decimal":
            return self._decimal_problem(value)
        return self._wrong_kind(value, "string")

    def has_json_kind(self, value: Any) -> bool:
        """Whether ``value`` is the JSON kind of this type (whatever its format)."""
        if self.json_kind == "string":
            return value.__class__ is str
        if self.json_kind == "boolean":
            return isinstance(value, bool)
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (self.json_kind == "decimal"
                                          and isinstance(value, Decimal | float))

    def _wrong_kind(self, value: Any, expected: str) -> str:
        return f"{self.name} must be a JSON {expected}, not {json_kind_of(value)}"

    def _integer_problem(self, value: Any) -> str | None:
        if not isinstance(value, int) or isinstance(value, bool):
            return self._wrong_kind(value, _EXPECTED["integer"])
        if self.pattern is not None and not self.pattern.fullmatch(str(value)):
            return f"{value} is not a valid {self.name}"
        if self.min_value is not None and value < self.min_value:
            return f"{value} is below the minimum {self.min_value} of {self.name}"
        if self.max_value is not None and value > self.max_value:
            return f"{value} is above the maximum {self.max_value} of {self.name}"
        return None

    def _decimal_problem(self, value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int | Decimal | float):
            return self._wrong_kind(value, _EXPECTED["decimal"])
        text = str(value)
        if self.pattern is not None and not self.pattern.fullmatch(text):
            return f"{text} is not a valid {self.name}"
        return None

    def _string_problem(self, value: str) -> str | None:
        if value == "":
            return f"an empty string is not a valid {self.name} (leave the element out)"
        if self.max_length is not None and len(value) > self.max_length:
            return f"{self.name} is longer than {self.max_length} characters"
        if self.pattern is not None and not self.pattern.fullmatch(value):
            return f"'{_shorten(value)}' is not a valid {self.name}"
        if self.name in _CALENDAR_TYPES and not _is_calendar_date(value):
            return f"'{_shorten(value)}' is not a valid {self.name} (no such day)"
        return None


def _is_calendar_date(value: str) -> bool:
    match = _CALENDAR_DATE.match(value)
    if match is None:
        return True
    try:
        date(*(int(part) for part in match.groups()))
    except ValueError:
        return False
    return True


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def json_kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float | Decimal):
        return f"the number {value}"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def is_primitive(type_code: str) -> bool:
    definition = structure_definition(type_code)
    return definition is not None and definition["kind"] == "primitive-type"


def _value_element(type_code: str) -> dict[str, Any]:
    definition = structure_definition(type_code)
    assert definition is not None
    path = f"{definition['type']}.value"
    return next(e for e in definition["snapshot"]["element"] if e["path"] == path)


def _ancestors(type_code: str) -> list[str]:
    """``type_code`` then its base types up to the first non-primitive."""
    chain: list[str] = []
    current: str | None = type_code
    while current is not None and is_primitive(current):
        chain.append(current)
        definition = structure_definition(current)
        assert definition is not None
        base = definition.get("baseDefinition", "")
        current = base.removeprefix(_BASE_PREFIX) if base.startswith(_BASE_PREFIX) else None
    return chain


def _inherited(chain: list[str], key: str) -> Any:
    for name in chain:
        value = _value_element(name).get(key)
        if value is not None:
            return value
    return None


def _regex(type_code: str) -> re.Pattern[str] | None:
    if type_code in _LINEAR_EQUIVALENTS:
        return re.compile(_LINEAR_EQUIVALENTS[type_code], re.ASCII)
    for declared in _value_element(type_code).get("type", []):
        for extension in declared.get("extension", []):
            if extension.get("url") == _REGEX_URL:
                return re.compile(extension["valueString"], re.ASCII)
    return None


@cache
def primitive_type(type_code: str) -> PrimitiveType:
    """The compiled rules of primitive ``type_code`` (e.g. ``date``, ``positiveInt``)."""
    chain = _ancestors(type_code)
    json_kind = next((_JSON_KINDS[name] for name in chain if name in _JSON_KINDS), "string")
    return PrimitiveType(
        name=type_code,
        json_kind=json_kind,
        pattern=_regex(type_code),
        min_value=_inherited(chain, "minValueInteger"),
        max_value=_inherited(chain, "maxValueInteger"),
        max_length=_inherited(chain, "maxLength"),
    )

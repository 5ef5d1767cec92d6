"""Normalising values for indexing and comparison (the spec's search page, "string")."""

from __future__ import annotations

import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

from bson.decimal128 import Decimal128

from ..errors import InvalidRequest

__all__ = ["normalize_text", "to_decimal", "parse_decimal", "number_value"]


def normalize_text(text: str) -> str:
    """Case- and accent-insensitive form: NFKD, combining marks dropped, case-folded."""
    if text.isascii():
        return " ".join(text.lower().split())
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())


def to_decimal(value: Any) -> Decimal | None:
    """A JSON number (int, float or Decimal) as a Decimal; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Decimal128):
        return value.to_decimal()
    return None


def number_value(value: Decimal) -> float:
    """How a number is stored in the index: a double (MongoDB compares numbers of any
    type numerically; the conversion keeps the order of decimal values)."""
    return float(value)


def parse_decimal(text: str, name: str) -> Decimal:
    """A search number; beyond what Decimal128 holds (34 digits, exponent 6111) is a 400."""
    try:
        value = Decimal(text) if len(text) <= 60 else None
    except (InvalidOperation, ValueError):
        value = None
    if value is None or not value.is_finite() or abs(value.adjusted()) > 6000:
        raise InvalidRequest(f"Invalid number '{text[:80]}' for {name}")
    return value

"""HL7 v2 primitive datatypes to FHIR primitives (V2-to-FHIR IG datatype maps).

DTM/TS -> dateTime, date and instant; DT -> date; TM -> time; NM -> decimal;
SN -> Quantity with comparator, Range or Ratio. Values that do not follow the v2 format
raise :class:`DataTypeError` (the message is answered AE with an ERR naming the field).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["DataTypeError", "date_time", "date", "instant", "time", "decimal",
           "structured_numeric"]

_DTM = re.compile(
    r"^(?P<y>\d{4})(?P<mo>\d{2})?(?P<d>\d{2})?(?P<h>\d{2})?(?P<mi>\d{2})?(?P<s>\d{2})?"
    r"(?P<f>\.\d{1,6})?(?P<tz>[+-]\d{4}|Z)?$"
)
_TM = re.compile(r"^(?P<h>\d{2})(?P<mi>\d{2})?(?P<s>\d{2})?(?P<f>\.\d{1,6})?([+-]\d{4})?$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_COMPARATORS = {">": ">", "<": "<", ">=": ">=", "<=": "<=", "=": None, "": None}


class DataTypeError(ValueError):
    """A value does not follow its v2 datatype (HL7 table 0357 code 102)."""


def _parts(text: str) -> re.Match[str]:
    match = _DTM.match(text.strip())
    if not match:
        raise DataTypeError(f"'{text[:40]}' is not an HL7 v2 date/time (YYYY[MM[DD[HH[MM"
                            "[SS[.S]]]]]][+/-ZZZZ])")
    y, mo, d = match["y"], match["mo"] or "01", match["d"] or "01"
    try:
        datetime(int(y), int(mo), int(d), int(match["h"] or 0), int(match["mi"] or 0),
                 int(match["s"] or 0))
    except ValueError as error:
        raise DataTypeError(f"'{text[:40]}' is not a valid date/time: {error}") from None
    return match


def date(text: str) -> str | None:
    """DT, or the date part of a DTM: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``."""
    if not text:
        return None
    match = _parts(text)
    return "-".join(p for p in (match["y"], match["mo"], match["d"]) if p)


def _offset(match: re.Match[str], zone: ZoneInfo) -> str:
    written = match["tz"]
    if written == "Z":
        return "Z"
    if written:
        hours, minutes = int(written[1:3]), int(written[3:5])
        if hours > 14 or minutes > 59:
            raise DataTypeError(f"'{written}' is not a valid time zone offset")
        return f"{written[0]}{written[1:3]}:{written[3:5]}"
    local = datetime(int(match["y"]), int(match["mo"]), int(match["d"]), int(match["h"]),
                     int(match["mi"] or 0), tzinfo=zone)
    offset = local.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def date_time(text: str, zone: ZoneInfo) -> str | None:
    """DTM/TS to FHIR dateTime; a time without an offset is read in ``zone``."""
    if not text:
        return None
    match = _parts(text)
    if not match["h"]:
        return date(text)
    clock = f"{match['h']}:{match['mi'] or '00'}:{match['s'] or '00'}{match['f'] or ''}"
    return f"{match['y']}-{match['mo']}-{match['d']}T{clock}{_offset(match, zone)}"


def instant(text: str, zone: ZoneInfo) -> str | None:
    """DTM to FHIR instant, or None when the value has no time of day."""
    value = date_time(text, zone)
    return value if value and "T" in value else None


def time(text: str) -> str | None:
    """TM to FHIR time (``hh:mm:ss``)."""
    if not text:
        return None
    match = _TM.match(text.strip())
    if not match or int(match["h"]) > 23 or int(match["mi"] or 0) > 59 \
            or int(match["s"] or 0) > 59:
        raise DataTypeError(f"'{text[:40]}' is not an HL7 v2 time (HH[MM[SS[.S]]])")
    return f"{match['h']}:{match['mi'] or '00'}:{match['s'] or '00'}"


def decimal(text: str) -> Decimal | None:
    """NM to a FHIR decimal, precision kept as written."""
    if not text:
        return None
    cleaned = text.strip()
    if not _NUMBER.match(cleaned):
        raise DataTypeError(f"'{text[:40]}' is not a number (NM)")
    try:
        value = Decimal(cleaned.lstrip("+"))
    except InvalidOperation:  # pragma: no cover - the pattern rules this out
        raise DataTypeError(f"'{text[:40]}' is not a number (NM)") from None
    return Decimal(f"0{value}") if str(value).startswith(".") else value


def structured_numeric(components: list[str]) -> tuple[str, Any]:
    """SN (comparator, num1, separator, num2) to ``("Quantity"|"Range"|"Ratio", value)``."""
    comparator, first, separator, second = (components + ["", "", "", ""])[:4]
    if comparator not in _COMPARATORS and comparator != "<>":
        raise DataTypeError(f"'{comparator}' is not an SN comparator")
    low, high = decimal(first), decimal(second)
    if separator in (":", "/") and low is not None and high is not None:
        return "Ratio", {"numerator": {"value": low}, "denominator": {"value": high}}
    if separator == "-" and low is not None and high is not None:
        return "Range", {"low": {"value": low}, "high": {"value": high}}
    if low is None:
        raise DataTypeError("SN has no number")
    quantity: dict[str, Any] = {"value": low}
    if _COMPARATORS.get(comparator):
        quantity["comparator"] = _COMPARATORS[comparator]
    return "Quantity", quantity

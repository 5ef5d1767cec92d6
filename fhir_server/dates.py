"""FHIR date, dateTime and instant values as half-open UTC ranges.

A FHIR date has an implicit precision: ``2024`` means all of 2024, ``2024-03-05T10:00``
means that minute. Search and history compare such ranges (the spec's search page,
"date"). Values without a time zone are taken as UTC.
"""

from __future__ import annotations

import re
from calendar import isleap, monthrange
from datetime import UTC, datetime, timedelta, timezone

from .errors import InvalidRequest

__all__ = ["parse_date_range", "parse_instant", "DATE_PATTERN"]

DATE_PATTERN = re.compile(
    r"^(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?P<fraction>\.\d+)?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


_EARLIEST = datetime.min.replace(tzinfo=UTC)
_LATEST = datetime.max.replace(tzinfo=UTC)


def _utc(moment: datetime) -> datetime:
    """In UTC; a moment past either end of the calendar (``0001-01-01T00:00+05:30``,
    the end of ``9999``) is clamped to that end."""
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return _EARLIEST if moment.year == 1 else _LATEST


def _after(start: datetime, step: timedelta) -> datetime:
    try:
        return _utc(start + step)
    except OverflowError:
        return _LATEST


def parse_date_range(value: str, name: str = "date") -> tuple[datetime, datetime]:
    """``[start, end)`` of the period a FHIR date/dateTime/instant denotes, in UTC
    (clamped to the ends of the calendar Python dates can hold)."""
    match = DATE_PATTERN.match(value.strip())
    if not match:
        raise InvalidRequest(f"Invalid date/time '{value[:80]}' for {name}")
    g = match.groupdict()
    try:
        zone = UTC
        if g["tz"] and g["tz"] != "Z":
            sign = 1 if g["tz"][0] == "+" else -1
            hours, minutes = int(g["tz"][1:3]), int(g["tz"][4:6])
            zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
        year = int(g["year"])
        if g["month"] is None:
            start = datetime(year, 1, 1, tzinfo=zone)
            return _utc(start), _after(start, timedelta(days=366 if isleap(year) else 365))
        month = int(g["month"])
        if g["day"] is None:
            start = datetime(year, month, 1, tzinfo=zone)
            return _utc(start), _after(start, timedelta(days=monthrange(year, month)[1]))
        day = int(g["day"])
        if g["hour"] is None:
            start = datetime(year, month, day, tzinfo=zone)
            return _utc(start), _after(start, timedelta(days=1))
        hour, minute = int(g["hour"]), int(g["minute"])
        if g["second"] is None:
            start = datetime(year, month, day, hour, minute, tzinfo=zone)
            return _utc(start), _after(start, timedelta(minutes=1))
        second = int(g["second"])
        if g["fraction"]:
            digits = g["fraction"][1:]
            micro = int((digits + "000000")[:6])
            start = datetime(year, month, day, hour, minute, second, micro, tzinfo=zone)
            return _utc(start), _after(start, timedelta(microseconds=10 ** max(
                0, 6 - len(digits))))
        start = datetime(year, month, day, hour, minute, second, tzinfo=zone)
        return _utc(start), _after(start, timedelta(seconds=1))
    except ValueError as exc:
        raise InvalidRequest(f"Invalid date/time '{value[:80]}' for {name}: {exc}") from None


def parse_instant(value: str, name: str) -> datetime:
    """The start of the period ``value`` denotes (``_since`` and similar)."""
    return parse_date_range(value, name)[0]

"""FHIR dates as consent rules use them (R4 datatypes: date, dateTime, Period).

* ``Consent.provision.period`` (when a rule holds) is compared with the moment of the
  request: a Period covers ``[start, end]`` at the precision written (``end: 2024-03``
  lasts to the end of March), times without a zone are taken as UTC.
* ``Consent.provision.dataPeriod`` (which data a rule covers) becomes whole days
  ``[first day, day after the last day)`` (``YYYY-MM-DD``), which the matcher compares
  with the resource's clinical dates.
"""

from __future__ import annotations

import re
from calendar import monthrange
from datetime import UTC, date, datetime, timedelta
from typing import Any

__all__ = ["period_holds", "instant_bounds", "data_period_bounds"]

_DATE_TIME = re.compile(
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?"
    r"(Z|[+-]\d{2}:\d{2})?)?)?)?$")


def instant_bounds(value: str) -> tuple[datetime, datetime] | None:
    """The UTC ``[first, last]`` instants a FHIR date or dateTime stands for."""
    match = _DATE_TIME.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        if month is None:
            return (datetime(int(year), 1, 1, tzinfo=UTC),
                    datetime(int(year), 12, 31, 23, 59, 59, 999999, tzinfo=UTC))
        if day is None:
            last = monthrange(int(year), int(month))[1]
            return (datetime(int(year), int(month), 1, tzinfo=UTC),
                    datetime(int(year), int(month), last, 23, 59, 59, 999999, tzinfo=UTC))
        if hour is None:
            start = datetime(int(year), int(month), int(day), tzinfo=UTC)
            return start, start + timedelta(days=1, microseconds=-1)
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute),
                          int(second or 0), micro, tzinfo=UTC)
        if zone and zone != "Z":
            sign = 1 if zone[0] == "+" else -1
            moment -= sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        return moment, moment if second is not None else moment + timedelta(minutes=1)
    except ValueError:
        return None


def period_holds(period: dict[str, Any] | None, moment: datetime) -> bool:
    """Whether ``moment`` falls in a Period (open ends are unbounded; an unreadable bound
    makes the period hold never)."""
    if not period:
        return True
    start, end = period.get("start"), period.get("end")
    if start is not None:
        bounds = instant_bounds(start)
        if bounds is None or moment < bounds[0]:
            return False
    if end is not None:
        bounds = instant_bounds(end)
        if bounds is None or moment > bounds[1]:
            return False
    return True


def data_period_bounds(period: dict[str, Any] | None) -> tuple[str | None, str | None]:
    """``dataPeriod`` as string bounds ``[low, high)`` on ``YYYY-MM-DD...`` values."""
    if not period:
        return None, None
    low = high = None
    start, end = period.get("start"), period.get("end")
    if isinstance(start, str) and instant_bounds(start) is not None:
        low = instant_bounds(start)[0].date().isoformat() if len(start) < 10 else start[:10]
    if isinstance(end, str) and instant_bounds(end) is not None:
        last = instant_bounds(end)[1].date() if len(end) < 10 else date.fromisoformat(end[:10])
        high = (last + timedelta(days=1)).isoformat()
    return low, high

"""The sliding window of a scan and the baseline windows before it, in whole UTC days.

The current window is the ``days`` calendar days that end with ``end`` (inclusive); the
baseline is the ``baseline`` windows of the same length just before it. Whole days make a
window a stable name: a scan re-run on the same day scans the same window (and finds its
alert already raised).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

__all__ = ["Windows", "case_day"]


@dataclass(frozen=True)
class Windows:
    end: date  # the last day of the current window
    days: int
    baseline: int

    @property
    def start(self) -> date:
        """The first day of the current window."""
        return self.end - timedelta(days=self.days - 1)

    @property
    def earliest(self) -> date:
        """The first day of the oldest baseline window."""
        return self.start - timedelta(days=self.days * self.baseline)

    def index(self, day: date) -> int | None:
        """0 for the current window, 1..baseline for the ones before it, None outside."""
        if day > self.end or day < self.earliest:
            return None
        return (self.end - day).days // self.days


def case_day(value: object) -> date | None:
    """The calendar day of a FHIR date or dateTime as written (``2026-12-01T23:30+05:30``
    is 1 December); None for a partial date (year or month only) or anything else."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None

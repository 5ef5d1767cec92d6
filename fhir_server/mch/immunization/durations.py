"""Ages and intervals as schedules write them: ``6w``, ``9m``, ``1y6m``, ``15d``.

A duration is added to a date calendar-wise, the way CDC's CDSi logic specification
("Date calculations") and every published schedule count ages: years and months first
(a month later on the 31st is the last day of a shorter month), then weeks and days.
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = ["Duration"]

_PART = re.compile(r"(\d+)([ymwd])")


@dataclass(frozen=True)
class Duration:
    """Years, months, weeks and days; ``Duration.parse("1y6m")``."""

    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0

    @classmethod
    def parse(cls, text: str) -> Duration:
        """``"6w"``, ``"9m"``, ``"1y6m"``, ``"14w6d"``, ``"0d"``; ``ValueError`` otherwise."""
        if not isinstance(text, str) or not text or _PART.sub("", text):
            raise ValueError(f"'{text}' is not a duration like 6w, 9m, 1y6m or 15d")
        parts = {"y": 0, "m": 0, "w": 0, "d": 0}
        for number, unit in _PART.findall(text):
            parts[unit] += int(number)
        return cls(parts["y"], parts["m"], parts["w"], parts["d"])

    def after(self, start: date) -> date:
        """The date this long after ``start``."""
        month_index = start.month - 1 + self.months + 12 * self.years
        year, month = start.year + month_index // 12, month_index % 12 + 1
        day = min(start.day, monthrange(year, month)[1])
        return date(year, month, day) + timedelta(weeks=self.weeks, days=self.days)

    def __str__(self) -> str:
        text = "".join(f"{n}{unit}" for n, unit in
                       ((self.years, "y"), (self.months, "m"), (self.weeks, "w"),
                        (self.days, "d")) if n)
        return text or "0d"

"""Deciding which areas alert: counts against the baseline, with small-cell suppression.

For each area with a case in the current window: ``count`` (distinct patients), the
baseline ``mean`` and ``sd`` (population standard deviation) of its counts in the
previous windows (zeros included), and the threshold ``mean + k * max(sd, sqrt(mean))``
(the square root is the Poisson variation of a count, so a steady baseline does not alert
on one extra case). An area alerts when its count is at least the minimum cell size and
above the threshold. Counts below the minimum cell size are suppressed: reported as
``<N``, never alerting; the baseline figures are shown only when the baseline windows
together hold at least the minimum cell size too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .areas import Area

__all__ = ["AreaCount", "Scan", "assess"]


@dataclass(frozen=True)
class Scan:
    baseline: int  # number of baseline windows
    deviations: float  # k
    minimum_cell: int


@dataclass(frozen=True)
class AreaCount:
    area: Area
    count: int
    baseline_counts: tuple[int, ...]
    minimum_cell: int
    deviations: float

    @property
    def suppressed(self) -> bool:
        return self.count < self.minimum_cell

    @property
    def baseline_shown(self) -> bool:
        return sum(self.baseline_counts) >= self.minimum_cell

    @property
    def mean(self) -> float:
        return sum(self.baseline_counts) / len(self.baseline_counts)

    @property
    def sd(self) -> float:
        mean = self.mean
        return math.sqrt(sum((c - mean) ** 2 for c in self.baseline_counts)
                         / len(self.baseline_counts))

    @property
    def threshold(self) -> float:
        return self.mean + self.deviations * max(self.sd, math.sqrt(self.mean))

    @property
    def alerts(self) -> bool:
        return not self.suppressed and self.count > self.threshold

    @property
    def shown_count(self) -> int | str:
        return f"<{self.minimum_cell}" if self.suppressed else self.count


def assess(counts: dict[tuple[str, str], list[int]], areas: dict[tuple[str, str], Area],
           scan: Scan) -> list[AreaCount]:
    """``counts``: per area key, the counts of window 0 (current) .. ``scan.baseline``.
    The areas with a case in the current window, in order of kind and name."""
    found = [AreaCount(areas[key], windows[0], tuple(windows[1:scan.baseline + 1]),
                       scan.minimum_cell, scan.deviations)
             for key, windows in counts.items() if windows[0] > 0]
    return sorted(found, key=lambda a: a.area.key)

"""The LMS reference tables shipped in ``tables/`` (origin and licenses in ``tables/SOURCES.md``).

Each table is a regular grid of L, M and S per sex: ``x0`` and ``step`` give the x of each row
(age in days, age in months, length in cm, gestational or postmenstrual age in days). Between
rows L, M and S are interpolated linearly, as WHO's software does for weight-for-length/height
by 0.1 cm and for the 2007 reference by month. Beyond the last row a table may hold the last
row's values for a while (``hold``), as WHO's 2007 software does up to 121 and 229 months.
"""

from __future__ import annotations

import gzip
import json
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["LmsGrid", "reference_table"]

_EPSILON = 1e-9


@dataclass(frozen=True)
class LmsGrid:
    """L, M and S of one sex at ``x0 + k * step`` for k = 0, 1, ..."""

    x0: float
    step: float
    power: tuple[float, ...]
    median: tuple[float, ...]
    variation: tuple[float, ...]

    def at(self, x: float, hold: float = 0.0) -> tuple[float, float, float] | None:
        """L, M and S at ``x`` (linear between rows; the last row's up to, not including,
        ``hold`` beyond it), or None outside the table."""
        position = (x - self.x0) / self.step
        row = math.floor(position + _EPSILON)
        fraction = max(position - row, 0.0)
        last = len(self.median) - 1
        if row > last or (row == last and fraction > _EPSILON):
            beyond = x - (self.x0 + last * self.step)
            row, fraction = (last, 0.0) if beyond < hold else (-1, 0.0)
        if row < 0:
            return None
        if fraction <= _EPSILON:
            return self.power[row], self.median[row], self.variation[row]
        return (
            _between(self.power, row, fraction),
            _between(self.median, row, fraction),
            _between(self.variation, row, fraction),
        )


def _between(column: tuple[float, ...], row: int, fraction: float) -> float:
    return column[row] + fraction * (column[row + 1] - column[row])


@cache
def _standard(file_name: str) -> dict[str, dict[str, LmsGrid]]:
    with resources.files(__package__).joinpath("tables", file_name).open("rb") as compressed:
        document = json.loads(gzip.decompress(compressed.read()))
    return {
        indicator: {
            sex: LmsGrid(
                x0=table["x0"],
                step=table["step"],
                power=tuple(table[sex]["l"]),
                median=tuple(table[sex]["m"]),
                variation=tuple(table[sex]["s"]),
            )
            for sex in ("male", "female")
        }
        for indicator, table in document["tables"].items()
    }


def reference_table(file_name: str, indicator: str, sex: str) -> LmsGrid:
    """The grid of ``indicator`` for ``sex`` (``male``/``female``) in ``tables/<file_name>``."""
    return _standard(file_name)[indicator][sex]

"""WHO centile curves for the growth chart: reference data, not anyone's record.

The 3rd, 15th, 50th, 85th and 97th centiles of WHO's percentile charts, computed from the
LMS tables the growth assessment scores with (:mod:`fhir_server.mch.growth`, WHO Child
Growth Standards 2006 to 1856 days, WHO Growth Reference 2007 from 61 months): the value
at the centile's z-score is ``M (1 + L S z)^(1/L)`` (WHO 2006, *Methods and development*,
chapter 7). Within +/-3 SD this is exact also for the weight-based indicators, whose
restricted application only changes the scale beyond +/-3 SD; so a child's measurement
plotted on these curves sits where its ``$growth`` z-score says.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

from ..mch.growth.lms import value_at_z_score
from ..mch.growth.reference_tables import reference_table

__all__ = ["CHARTS", "RANGES", "CENTILES", "curves", "CurveRequestError"]

CENTILES = (3, 15, 50, 85, 97)
DAYS_PER_MONTH = 30.4375
# chart -> unit of the measurement
CHARTS = {"wfa": "kg", "lhfa": "cm", "hcfa": "cm", "bfa": "kg/m2", "wfl": "kg"}
# range -> (first, last) month of age; for "wfl", under 2 years is weight-for-length
# (45-110 cm), from 2 years weight-for-height (65-120 cm)
RANGES = {"0-6": (0, 6), "0-24": (0, 24), "0-60": (0, 60), "60-228": (61, 228)}
_WHO_2006_LAST_DAY = 1856
_STEP_DAYS = {"0-6": 2, "0-24": 7, "0-60": 14}
_WHO_2007_LAST_MONTH = {"wfa": 120, "lhfa": 228, "bfa": 228}


class CurveRequestError(ValueError):
    """A chart, sex or range the curves do not cover."""


@dataclass(frozen=True)
class _Table:
    file: str
    indicator: str
    xs: list[float]           # x in the table's own unit (days, months or cm)
    scale: float              # x on the chart = table x / scale (days -> months)


def _tables(chart: str, age_range: str) -> list[_Table]:
    if chart == "wfl":
        if age_range in ("0-6", "0-24"):
            return [_Table("who2006.json.gz", "wfl", _steps(45.0, 110.0, 1.0), 1.0)]
        if age_range == "0-60":
            return [_Table("who2006.json.gz", "wfh", _steps(65.0, 120.0, 1.0), 1.0)]
        raise CurveRequestError("weight-for-length/height covers children under 5 years")
    first, last = RANGES[age_range]
    if age_range != "60-228":
        end = min(round(last * DAYS_PER_MONTH), _WHO_2006_LAST_DAY)
        days = _steps(0, end, _STEP_DAYS[age_range])
        return [_Table("who2006.json.gz", chart, days, DAYS_PER_MONTH)]
    if chart not in _WHO_2007_LAST_MONTH:
        raise CurveRequestError("head circumference-for-age covers children under 5 years")
    return [_Table("who2007.json.gz", chart,
                   _steps(first, _WHO_2007_LAST_MONTH[chart], 1), 1.0)]


def _steps(first: float, last: float, step: float) -> list[float]:
    count = int(round((last - first) / step))
    xs = [first + i * step for i in range(count + 1)]
    return xs if xs[-1] == last else [*xs, last]


def curves(chart: str, sex: str, age_range: str) -> dict[str, Any]:
    """The centile curves of ``chart`` for ``sex`` over ``age_range``: ``x`` is the age in
    months (``cm`` of length/height for ``wfl``), each curve a list of ``[x, value]``."""
    if chart not in CHARTS:
        raise CurveRequestError(f"unknown chart '{chart[:20]}': one of {', '.join(CHARTS)}")
    if sex not in ("male", "female"):
        raise CurveRequestError("sex is male or female")
    if age_range not in RANGES:
        raise CurveRequestError(f"range is one of {', '.join(RANGES)}")
    lines = []
    for centile in CENTILES:
        z_score = NormalDist().inv_cdf(centile / 100)
        points = []
        for table in _tables(chart, age_range):
            grid = reference_table(table.file, table.indicator, sex)
            for x in table.xs:
                lms = grid.at(x)
                if lms is not None:
                    points.append([round(x / table.scale, 4),
                                   round(value_at_z_score(z_score, lms), 4)])
        lines.append({"centile": centile, "z": round(z_score, 4), "points": points})
    return {"chart": chart, "sex": sex, "range": age_range, "unit": CHARTS[chart],
            "x": "cm" if chart == "wfl" else "month", "curves": lines}

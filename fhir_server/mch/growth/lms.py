"""The LMS method: z-scores, WHO's restricted application beyond +/-3 SD, percentiles.

WHO Child Growth Standards, Methods and development (2006), chapter 7 "Computation of
centiles and z-scores" (https://www.who.int/publications/i/item/924154693X): the Box-Cox
power L, median M and coefficient of variation S give ``z = ((y/M)^L - 1) / (L*S)``. For the
weight-based indicators WHO restricts the distribution beyond +/-3 SD: a value above SD3 is
scored by the distance SD3 - SD2 (``z* = 3 + (y - SD3) / SD23pos``), below SD-3 by
SD-2 - SD-3.
"""

from __future__ import annotations

import math

__all__ = [
    "lms_z_score",
    "restricted_z_score",
    "value_at_z_score",
    "percentile",
    "round_half_away_from_zero",
]


def lms_z_score(value: float, lms: tuple[float, float, float]) -> float:
    """The LMS z-score of ``value`` (``ln(y/M)/S`` when L is 0)."""
    power, median, variation = lms
    if power == 0:
        return math.log(value / median) / variation
    return ((value / median) ** power - 1) / (power * variation)


def value_at_z_score(z_score: float, lms: tuple[float, float, float]) -> float:
    """The measurement at ``z_score`` on the LMS curve (WHO's SD lines for z = -3..3)."""
    power, median, variation = lms
    if power == 0:
        return median * math.exp(variation * z_score)
    return median * (1 + power * variation * z_score) ** (1 / power)


def restricted_z_score(value: float, lms: tuple[float, float, float]) -> float:
    """The z-score with WHO's restricted application of the LMS method beyond +/-3 SD."""
    z_score = lms_z_score(value, lms)
    if z_score > 3:
        sd3 = value_at_z_score(3, lms)
        return 3 + (value - sd3) / (sd3 - value_at_z_score(2, lms))
    if z_score < -3:
        sd3_negative = value_at_z_score(-3, lms)
        return -3 + (value - sd3_negative) / (value_at_z_score(-2, lms) - sd3_negative)
    return z_score


def percentile(z_score: float) -> float:
    """The standard normal distribution function at ``z_score``, as a percentage (0-100)."""
    return 50 * (1 + math.erf(z_score / math.sqrt(2)))


def round_half_away_from_zero(number: float, digits: int) -> float:
    """Round as WHO's software does (``rounde`` of the WHO macros): halves away from zero."""
    scale = 10**digits
    rounded = math.copysign(math.floor(abs(number) * scale + 0.5), number) / scale
    return rounded + 0.0  # -0.0 becomes 0.0

"""Score one value against one indicator: z-score, percentile, BIV flag, classification."""

from __future__ import annotations

from dataclasses import dataclass

from .classification import Classification, classify
from .indicators import IndicatorRule
from .lms import lms_z_score, percentile, restricted_z_score, round_half_away_from_zero
from .reference_tables import reference_table

__all__ = ["Score", "score"]


@dataclass(frozen=True)
class Score:
    """A z-score rounded to two decimals, the percentile of the unrounded z-score rounded to
    one decimal, whether WHO's cut-offs call the z-score biologically implausible, and the
    classification."""

    z_score: float
    percentile: float
    implausible: bool
    classification: Classification | None


def score(rule: IndicatorRule, sex: str, x: float, value: float) -> Score | None:
    """Score ``value`` at ``x`` (age, length or gestational age of the table), or None when
    ``x`` is outside the table."""
    grid = reference_table(rule.table_file, rule.indicator, sex)
    lms = grid.at(x, rule.held_beyond_last_row)
    if lms is None:
        return None
    exact = restricted_z_score(value, lms) if rule.restricted else lms_z_score(value, lms)
    z_score = round_half_away_from_zero(exact, 2)
    centile = round_half_away_from_zero(percentile(exact), 1)
    implausible = (rule.implausible_below is not None and z_score < rule.implausible_below) or (
        rule.implausible_above is not None and z_score > rule.implausible_above
    )
    return Score(
        z_score, centile, implausible, classify(rule.indicator, rule.standard, z_score, centile)
    )

"""The growth indicators: their codes, standards, tables, restriction and WHO's BIV cut-offs.

Codes ``wfa``, ``lhfa``, ``hcfa``, ``bfa``, ``wfl``, ``wfh`` and ``acfa`` are WHO's (the WHO 2007
height-for-age is reported as ``lhfa``). The INTERGROWTH-21st codes follow the acronyms of
the INTERGROWTH-21st standards (``ig-nbs-*``: newborn size by gestational age, including
the very preterm reference; ``ig-png-*``: postnatal growth of preterm infants by
postmenstrual age).

Biologically implausible values (WHO Anthro, ``anthro_zscores`` flags; WHO AnthroPlus and the
WHO 2007 macro for 5-19 years): length/height-for-age z < -6 or > 6, weight-for-age z < -6
or > 5, every other WHO indicator z < -5 or > 5, checked on the z-score rounded to two
decimals. INTERGROWTH-21st publishes no such cut-offs.

WHO's 2007 macros score weight-for-age below 121 months and height- and BMI-for-age below
229 months; beyond the last row (120, 228 months) the last month's LMS is held
(``held_beyond_last_row``, in months). For weight this is what WHO's Stata macro output shows;
for height and BMI it is assumed the same (no output past 202 months was at hand).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "INDICATORS",
    "STANDARDS",
    "WHO_2006",
    "WHO_2007",
    "INTERGROWTH_NEWBORN_SIZE",
    "INTERGROWTH_PRETERM_POSTNATAL",
    "IndicatorRule",
    "rule",
]

WHO_2006 = "who-2006"
WHO_2007 = "who-2007"
INTERGROWTH_NEWBORN_SIZE = "intergrowth-21st-newborn-size"
INTERGROWTH_PRETERM_POSTNATAL = "intergrowth-21st-preterm-postnatal"

STANDARDS = {
    WHO_2006: "WHO Child Growth Standards 2006 (0-5 years)",
    WHO_2007: "WHO Growth Reference 2007 (5-19 years)",
    INTERGROWTH_NEWBORN_SIZE: "INTERGROWTH-21st newborn size by gestational age",
    INTERGROWTH_PRETERM_POSTNATAL: "INTERGROWTH-21st postnatal growth of preterm infants",
}

INDICATORS = {
    "wfa": "Weight-for-age",
    "lhfa": "Length/height-for-age",
    "hcfa": "Head circumference-for-age",
    "bfa": "BMI-for-age",
    "wfl": "Weight-for-length",
    "wfh": "Weight-for-height",
    "acfa": "Arm circumference-for-age",
    "ig-nbs-wfga": "Newborn weight-for-gestational-age",
    "ig-nbs-lfga": "Newborn length-for-gestational-age",
    "ig-nbs-hcfga": "Newborn head circumference-for-gestational-age",
    "ig-png-wfa": "Preterm weight-for-postmenstrual-age",
    "ig-png-lfa": "Preterm length-for-postmenstrual-age",
    "ig-png-hcfa": "Preterm head circumference-for-postmenstrual-age",
}


@dataclass(frozen=True)
class IndicatorRule:
    """How one indicator of one standard is scored."""

    indicator: str
    standard: str
    table_file: str
    restricted: bool
    implausible_below: float | None = None
    implausible_above: float | None = None
    held_beyond_last_row: float = 0.0


def _who(
    indicator: str, standard: str, restricted: bool, below: float, above: float
) -> IndicatorRule:
    if standard == WHO_2006:
        return IndicatorRule(indicator, standard, "who2006.json.gz", restricted, below, above)
    return IndicatorRule(indicator, standard, "who2007.json.gz", restricted, below, above, 1.0)


def _intergrowth(indicator: str, standard: str) -> IndicatorRule:
    return IndicatorRule(indicator, standard, "intergrowth21.json.gz", restricted=False)


_RULES = {
    (rule.standard, rule.indicator): rule
    for rule in (
        _who("wfa", WHO_2006, True, -6, 5),
        _who("lhfa", WHO_2006, False, -6, 6),
        _who("wfl", WHO_2006, True, -5, 5),
        _who("wfh", WHO_2006, True, -5, 5),
        _who("bfa", WHO_2006, True, -5, 5),
        _who("hcfa", WHO_2006, False, -5, 5),
        _who("acfa", WHO_2006, True, -5, 5),
        _who("wfa", WHO_2007, True, -6, 5),
        _who("lhfa", WHO_2007, False, -6, 6),
        _who("bfa", WHO_2007, True, -5, 5),
        _intergrowth("ig-nbs-wfga", INTERGROWTH_NEWBORN_SIZE),
        _intergrowth("ig-nbs-lfga", INTERGROWTH_NEWBORN_SIZE),
        _intergrowth("ig-nbs-hcfga", INTERGROWTH_NEWBORN_SIZE),
        _intergrowth("ig-png-wfa", INTERGROWTH_PRETERM_POSTNATAL),
        _intergrowth("ig-png-lfa", INTERGROWTH_PRETERM_POSTNATAL),
        _intergrowth("ig-png-hcfa", INTERGROWTH_PRETERM_POSTNATAL),
    )
}


def rule(standard: str, indicator: str) -> IndicatorRule:
    """The rule of ``indicator`` in ``standard``."""
    return _RULES[(standard, indicator)]

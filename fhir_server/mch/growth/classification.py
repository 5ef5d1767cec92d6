"""Classification of a z-score or percentile by WHO's and INTERGROWTH-21st's cut-offs.

WHO cut-offs (WHO Child Growth Standards training course, "Interpreting growth indicators";
WHO Growth Reference 2007 for 5-19 years):

* length/height-for-age: < -3 severe stunting, < -2 stunting;
* weight-for-age: < -3 severe underweight, < -2 underweight;
* weight-for-length/height and, under 5 years, BMI-for-age: < -3 severe wasting, < -2 wasting,
  > +1 possible risk of overweight, > +2 overweight, > +3 obesity;
* BMI-for-age, 5-19 years: < -3 severe thinness, < -2 thinness, > +1 overweight, > +2 obesity;
* head circumference: < -3 severe microcephaly, < -2 microcephaly, > +2 macrocephaly;
* arm circumference-for-age: no z-score cut-off (MUAC is judged in mm), never classified.

INTERGROWTH-21st newborn weight: < 3rd centile severely small, < 10th small, > 90th large for
gestational age; newborn length and preterm postnatal length, weight and head circumference
use the WHO z-score cut-offs of the same measurement.

Cut-offs apply to the reported values: the z-score rounded to two decimals, the percentile
rounded to one decimal. Normal values have no classification (None).
"""

from __future__ import annotations

from dataclasses import dataclass

from .indicators import WHO_2007

__all__ = ["CLASSIFICATIONS", "Classification", "classify"]

CLASSIFICATIONS = {
    "severe-stunting": "Severe stunting",
    "stunting": "Stunting",
    "severe-underweight": "Severe underweight",
    "underweight": "Underweight",
    "severe-wasting": "Severe wasting",
    "wasting": "Wasting",
    "possible-risk-of-overweight": "Possible risk of overweight",
    "overweight": "Overweight",
    "obesity": "Obesity",
    "severe-thinness": "Severe thinness",
    "thinness": "Thinness",
    "severe-microcephaly": "Severe microcephaly",
    "microcephaly": "Microcephaly",
    "macrocephaly": "Macrocephaly",
    "severely-small-for-gestational-age": "Severely small for gestational age",
    "small-for-gestational-age": "Small for gestational age",
    "large-for-gestational-age": "Large for gestational age",
}


@dataclass(frozen=True)
class Classification:
    """A classification code (see ``CLASSIFICATIONS``) and its display."""

    code: str
    display: str


def _below(z_score: float, severe: str, moderate: str) -> str | None:
    if z_score < -3:
        return severe
    if z_score < -2:
        return moderate
    return None


def _weight_for_length(z_score: float) -> str | None:
    if z_score > 3:
        return "obesity"
    if z_score > 2:
        return "overweight"
    if z_score > 1:
        return "possible-risk-of-overweight"
    return _below(z_score, "severe-wasting", "wasting")


def _body_mass_index_5_to_19(z_score: float) -> str | None:
    if z_score > 2:
        return "obesity"
    if z_score > 1:
        return "overweight"
    return _below(z_score, "severe-thinness", "thinness")


def _head_circumference(z_score: float) -> str | None:
    if z_score > 2:
        return "macrocephaly"
    return _below(z_score, "severe-microcephaly", "microcephaly")


def _size_for_gestational_age(percentile: float) -> str | None:
    if percentile < 3:
        return "severely-small-for-gestational-age"
    if percentile < 10:
        return "small-for-gestational-age"
    if percentile > 90:
        return "large-for-gestational-age"
    return None


def classify(
    indicator: str, standard: str, z_score: float, percentile: float
) -> Classification | None:
    """The classification of a rounded z-score and percentile, or None when normal."""
    if indicator == "ig-nbs-wfga":
        code = _size_for_gestational_age(percentile)
    elif indicator in ("lhfa", "ig-nbs-lfga", "ig-png-lfa"):
        code = _below(z_score, "severe-stunting", "stunting")
    elif indicator in ("wfa", "ig-png-wfa"):
        code = _below(z_score, "severe-underweight", "underweight")
    elif indicator in ("hcfa", "ig-nbs-hcfga", "ig-png-hcfa"):
        code = _head_circumference(z_score)
    elif indicator == "bfa" and standard == WHO_2007:
        code = _body_mass_index_5_to_19(z_score)
    elif indicator in ("wfl", "wfh", "bfa"):
        code = _weight_for_length(z_score)
    else:
        code = None
    return None if code is None else Classification(code, CLASSIFICATIONS[code])

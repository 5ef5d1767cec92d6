"""Hand-picked cases of the growth rules: WHO's 0.7 cm length/height adjustment, the restricted
application beyond +/-3 SD, implausible-value flags, percentiles, classifications, corrected
age for a preterm child, INTERGROWTH-21st, the choice of standard by age, and refused input.

LMS values quoted are WHO's published ones (WHO Child Growth Standards 2006, day tables;
WHO Growth Reference 2007, month tables).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from fhir_server.mch.growth import (
    GrowthInputError,
    Measurement,
    UnitMismatchError,
    assess,
    to_centimetres,
    to_kilograms,
)

BIRTH = date(2024, 1, 1)


def on(age_days: int) -> date:
    return BIRTH + timedelta(days=age_days)


def scores(sex, measurements, gestational_age=None) -> dict:
    return {r.indicator: r for r in assess(sex, BIRTH, measurements, gestational_age)}


def one(sex, kind, value, unit, age_days, position=None, gestational_age=None):
    results = assess(
        sex, BIRTH, [Measurement(kind, value, unit, on(age_days), position)], gestational_age
    )
    assert len(results) == 1, results
    return results[0]


# WHO's length/height rule: length-based tables under 731 days, height-based from 731 days.


def test_standing_height_under_two_years_gets_0_7_cm():
    standing = one("male", "height", 80.0, "cm", 548, "standing")
    lying = one("male", "length", 80.7, "cm", 548, "lying")
    assert standing.value == pytest.approx(80.7)
    assert (standing.z_score, standing.percentile) == (lying.z_score, lying.percentile)


def test_recumbent_length_from_two_years_loses_0_7_cm():
    lying = one("female", "length", 95.7, "cm", 1100, "lying")
    standing = one("female", "height", 95.0, "cm", 1100, "standing")
    assert lying.value == pytest.approx(95.0)
    assert lying.z_score == standing.z_score


@pytest.mark.parametrize(
    ("age_days", "position", "scored"),
    [(730, "standing", 80.7), (730, "lying", 80.0), (731, "lying", 79.3), (731, "standing", 80.0)],
)
def test_the_adjustment_changes_at_731_days(age_days, position, scored):
    assert one("male", "height", 80.0, "cm", age_days, position).value == pytest.approx(scored)


def test_unknown_position_is_taken_as_the_age_asks():
    assert one("male", "height", 80.0, "cm", 548).value == 80.0
    assert one("male", "height", 80.0, "cm", 1100).value == 80.0


def test_standing_before_9_months_is_flagged_not_adjusted():
    result = one("female", "height", 68.0, "cm", 273, "standing")
    assert (result.value, result.flags) == (68.0, ("standing-under-9-months",))
    assert one("female", "height", 68.0, "cm", 274, "standing").value == pytest.approx(68.7)


def test_weight_for_length_and_bmi_use_the_adjusted_length():
    day = on(548)
    standing = scores(
        "male",
        [
            Measurement("weight", 11.0, "kg", day),
            Measurement("height", 80.0, "cm", day, "standing"),
        ],
    )
    lying = scores(
        "male",
        [Measurement("weight", 11.0, "kg", day), Measurement("length", 80.7, "cm", day, "lying")],
    )
    assert standing["wfl"].z_score == lying["wfl"].z_score
    assert standing["bfa"].value == pytest.approx(11.0 / 0.807**2)
    assert standing["bfa"].z_score == lying["bfa"].z_score


# WHO's restricted application of the LMS method beyond +/-3 SD (weight-based indicators).


def test_weight_above_3_sd_is_scored_by_the_sd2_to_sd3_distance():
    # boys, day 0: L 0.3487, M 3.3464, S 0.14602; SD3 = 5.03064, SD2 = 4.41935
    # z* = 3 + (6.0 - SD3) / (SD3 - SD2) = 4.586 (the plain LMS z-score is 4.43)
    result = one("male", "weight", 6.0, "kg", 0)
    assert (result.z_score, result.percentile) == (4.59, 100.0)


def test_weight_below_minus_3_sd_is_scored_by_the_sd2_to_sd3_distance():
    # girls, day 0: L 0.3809, M 3.2322, S 0.14171; SD-3 = 2.03272, SD-2 = 2.39467
    # z* = -3 + (1.8 - SD-3) / (SD-2 - SD-3) = -3.643 (the plain LMS z-score is -3.70)
    result = one("female", "weight", 1.8, "kg", 0)
    assert (result.z_score, result.percentile) == (-3.64, 0.0)
    assert result.classification.code == "severe-underweight"


def test_who_2007_bmi_above_3_sd_is_restricted():
    # girls, 120 months: L -1.4864, M 16.6133, S 0.12307; SD3 = 28.3779, SD2 = 22.5705
    # z* = 3 + (30 - SD3) / (SD3 - SD2) = 3.279 (the plain LMS z-score is 3.20)
    result = one("female", "bmi", 30.0, "kg/m2", 3653)
    assert (result.standard, result.z_score) == ("who-2007", 3.28)
    assert result.classification.code == "obesity"


# Percentiles come from the unrounded z-score.


def test_percentile_is_computed_from_the_unrounded_z_score():
    # boys, day 0 length: L 1, M 49.8842, S 0.03795; z = 1.004 at 49.8842 * (1 + 0.03795 * 1.004)
    result = one("male", "length", 49.8842 * (1 + 0.03795 * 1.004), "cm", 0)
    assert result.z_score == 1.0
    assert result.percentile == 84.2  # Phi(1.004) = 84.24; Phi(1.00) would give 84.1


# WHO's flags for biologically implausible values (on the z-score rounded to two decimals).


@pytest.mark.parametrize(
    ("kind", "value", "age_days", "indicator", "flagged"),
    [
        ("weight", 4.6, 300, "wfa", False),  # -5.5: weight-for-age is flagged below -6 only
        ("weight", 3.8, 300, "wfa", True),  # -6.6
        ("weight", 15.8, 300, "wfa", True),  # +5.5
        ("length", 58.0, 300, "lhfa", True),  # -6.6
        ("length", 85.6, 300, "lhfa", False),  # +5.5: length is flagged above +6 only
        ("head-circumference", 38.3, 300, "hcfa", True),  # -5.5
    ],
)
def test_biologically_implausible_flags(kind, value, age_days, indicator, flagged):
    unit = "kg" if kind == "weight" else "cm"
    result = one("male", kind, value, unit, age_days)
    assert result.indicator == indicator
    assert ("biologically-implausible" in result.flags) is flagged, result.z_score
    if not flagged:
        assert abs(result.z_score) > 5


def test_weight_for_length_above_5_is_flagged():
    day = on(200)
    results = scores(
        "female", [Measurement("weight", 14.0, "kg", day), Measurement("length", 66.0, "cm", day)]
    )
    assert results["wfl"].z_score > 5
    assert "biologically-implausible" in results["wfl"].flags


# Classification by WHO's cut-offs.


@pytest.mark.parametrize(
    ("kind", "value", "age_days", "expected"),
    [
        ("length", 67.9, 365, "severe-stunting"),
        ("length", 69.8, 365, "stunting"),
        ("length", 75.0, 365, None),
        ("weight", 7.0, 365, "underweight"),
        ("head-circumference", 42.5, 365, "microcephaly"),
        ("head-circumference", 41.0, 365, "severe-microcephaly"),
        ("head-circumference", 49.0, 365, "macrocephaly"),
        ("bmi", 19.0, 365, "possible-risk-of-overweight"),
        ("bmi", 20.5, 365, "overweight"),
        ("bmi", 22.5, 365, "obesity"),
        ("bmi", 13.5, 365, "wasting"),
        ("bmi", 19.0, 3000, "overweight"),
        ("bmi", 13.0, 3000, "thinness"),
        ("muac", 11.0, 365, None),
    ],
)
def test_classification_by_who_cut_offs(kind, value, age_days, expected):
    unit = {"weight": "kg", "bmi": "kg/m2"}.get(kind, "cm")
    result = one("male", kind, value, unit, age_days)
    assert (result.classification and result.classification.code) == expected, result.z_score


def test_wasting_from_weight_for_height():
    day = on(1000)
    results = scores(
        "female", [Measurement("weight", 9.0, "kg", day), Measurement("height", 88.0, "cm", day)]
    )
    assert results["wfh"].classification.code == "severe-wasting"
    assert results["wfh"].z_score < -3


# Which standard at which age.


def test_standard_by_age():
    assert one("male", "length", 110.0, "cm", 1856).standard == "who-2006"
    assert one("male", "length", 110.0, "cm", 1857).standard == "who-2007"
    assert one("male", "length", 175.0, "cm", 6970).standard == "who-2007"  # 228.99 months
    assert assess("male", BIRTH, [Measurement("height", 175.0, "cm", on(6971))]) == []


def test_weight_for_age_stops_at_10_years_and_head_circumference_at_5():
    assert one("female", "weight", 30.0, "kg", 3682).standard == "who-2007"  # 120.99 months
    assert assess("female", BIRTH, [Measurement("weight", 30.0, "kg", on(3683))]) == []
    assert assess("female", BIRTH, [Measurement("head-circumference", 50.0, "cm", on(1857))]) == []
    assert assess("female", BIRTH, [Measurement("muac", 150, "mm", on(90))]) == []


def test_a_weight_yields_weight_for_length_and_bmi_with_a_same_day_length():
    length = Measurement("length", 75.0, "cm", on(365), source="Observation/length")
    weight = Measurement("weight", 9.5, "kg", on(365), source="Observation/weight")
    other_day = Measurement("weight", 9.6, "kg", on(366))
    results = assess("female", BIRTH, [weight, length, other_day])
    assert [(r.measurement.source, r.indicator) for r in results] == [
        ("Observation/weight", "wfa"),
        ("Observation/weight", "wfl"),
        ("Observation/weight", "bfa"),
        ("Observation/length", "lhfa"),
        (None, "wfa"),
    ]
    assert results[1].paired_with is length and results[2].paired_with is length
    assert results[2].value == pytest.approx(9.5 / 0.75**2)


def test_a_measured_bmi_replaces_the_computed_one():
    day = on(365)
    measurements = [
        Measurement("weight", 9.5, "kg", day),
        Measurement("length", 75.0, "cm", day),
        Measurement("bmi", 17.0, "kg/m2", day),
    ]
    bmi = [
        (r.measurement.kind, r.value)
        for r in assess("female", BIRTH, measurements)
        if r.indicator == "bfa"
    ]
    assert bmi == [("bmi", 17.0)]


def test_weight_for_length_needs_45_to_110_cm():
    day = on(10)
    results = scores(
        "male", [Measurement("weight", 2.2, "kg", day), Measurement("length", 44.9, "cm", day)]
    )
    assert "wfl" not in results and "lhfa" in results


# Preterm children: INTERGROWTH-21st, then WHO at corrected age.


def test_preterm_newborn_is_scored_by_intergrowth_newborn_size_only():
    results = scores(
        "female",
        [Measurement("weight", 1.3, "kg", BIRTH), Measurement("length", 39.0, "cm", BIRTH)],
        210,
    )
    assert set(results) == {"ig-nbs-wfga", "ig-nbs-lfga"}
    assert {r.standard for r in results.values()} == {"intergrowth-21st-newborn-size"}


def test_preterm_infant_before_64_weeks_is_scored_by_intergrowth_postnatal_standards():
    result = one("male", "weight", 3.43, "kg", 70, gestational_age=210)  # 40+0 weeks' PMA
    assert (result.indicator, result.postmenstrual_age_days) == ("ig-png-wfa", 280)
    assert result.z_score == 0.0  # the standard's median at 40 weeks is 3.43 kg
    assert result.corrected_age_days is None


def test_preterm_infant_after_64_weeks_is_scored_at_corrected_age():
    preterm = one("male", "weight", 7.0, "kg", 300, gestational_age=210)
    term = one("male", "weight", 7.0, "kg", 230)
    assert (preterm.indicator, preterm.corrected_age_days, preterm.age_days) == ("wfa", 230, 300)
    assert (preterm.z_score, preterm.percentile) == (term.z_score, term.percentile)


def test_correction_stops_at_two_years():
    preterm = one("male", "weight", 12.0, "kg", 731, gestational_age=210)
    term = one("male", "weight", 12.0, "kg", 731)
    assert preterm.corrected_age_days is None
    assert preterm.z_score == term.z_score


def test_corrected_age_decides_whether_a_standing_height_is_plausible():
    # 300 days old, born at 30 weeks: corrected age 230 days, under 9 months
    result = one("male", "height", 65.0, "cm", 300, "standing", gestational_age=210)
    assert (result.corrected_age_days, result.value) == (230, 65.0)
    assert result.flags == ("standing-under-9-months",)


def test_term_newborn_gets_newborn_size_and_who_weight_for_age():
    results = scores("female", [Measurement("weight", 2.5, "kg", BIRTH)], 280)
    assert results["ig-nbs-wfga"].classification.code == "severely-small-for-gestational-age"
    assert results["wfa"].classification is None
    assert results["wfa"].z_score == -1.73


def test_newborn_size_classification_by_centile():
    assert (
        one("female", "weight", 3.0, "kg", 0, gestational_age=231).classification.code
        == "large-for-gestational-age"
    )
    results = scores("female", [Measurement("weight", 3.0, "kg", BIRTH)], 280)
    assert results["ig-nbs-wfga"].classification is None


# Units and refused input.


@pytest.mark.parametrize(
    ("value", "unit", "kilograms"),
    [(3500, "g", 3.5), (3.5, "kg", 3.5), (10, "[lb_av]", 4.5359237)],
)
def test_mass_units(value, unit, kilograms):
    assert to_kilograms(value, unit) == pytest.approx(kilograms)


@pytest.mark.parametrize(
    ("value", "unit", "centimetres"),
    [(750, "mm", 75.0), (0.75, "m", 75.0), (75, "cm", 75.0), (30, "[in_i]", 76.2)],
)
def test_length_units(value, unit, centimetres):
    assert to_centimetres(value, unit) == pytest.approx(centimetres)


def test_a_measurement_in_pounds_scores_as_in_kilograms():
    pounds = one("male", "weight", 22.0462262185, "[lb_av]", 365)
    assert pounds.z_score == one("male", "weight", 10.0, "kg", 365).z_score


@pytest.mark.parametrize(
    ("kind", "unit"),
    [
        ("weight", "cm"),
        ("length", "kg"),
        ("head-circumference", "g"),
        ("bmi", "kg"),
        ("weight", "KG"),
        ("muac", "kg/m2"),
    ],
)
def test_a_unit_that_does_not_fit_the_measurement_is_refused(kind, unit):
    with pytest.raises(UnitMismatchError, match="not a unit of") as refused:
        assess("male", BIRTH, [Measurement(kind, 10.0, unit, on(100))])
    assert isinstance(refused.value, ValueError)


@pytest.mark.parametrize(
    ("sex", "measurement", "gestational_age", "message"),
    [
        ("unknown", Measurement("weight", 3.0, "kg", BIRTH), None, "male or female"),
        (
            "male",
            Measurement("weight", 3.0, "kg", BIRTH - timedelta(days=1)),
            None,
            "before the birth date",
        ),
        ("male", Measurement("weight", -3.0, "kg", BIRTH), None, "positive"),
        ("male", Measurement("weight", 0, "kg", BIRTH), None, "positive"),
        ("male", Measurement("waist", 50.0, "cm", BIRTH), None, "unknown measurement kind"),
        (
            "male",
            Measurement("length", 50.0, "cm", BIRTH, "sitting"),
            None,
            "unknown measurement position",
        ),
        ("male", Measurement("weight", 3.0, "kg", BIRTH), 100, "gestational age"),
        ("male", Measurement("weight", 3.0, "kg", BIRTH), 400, "gestational age"),
    ],
)
def test_input_that_cannot_be_assessed_is_refused(sex, measurement, gestational_age, message):
    with pytest.raises(GrowthInputError, match=message):
        assess(sex, BIRTH, [measurement], gestational_age)

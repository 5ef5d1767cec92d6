"""The pregnancy summary on scenarios from the Synthea prenatal bundles and the WHO SMART ANC
scenarios (docs/maternal-child.md, "Pregnancy summary"). Expected values are worked out by
hand from each scenario's dates: day counts are written out in the comments."""

from __future__ import annotations

from datetime import date

import pytest

from fhir_server.mch.pregnancy import DatingMethod, pregnancy_summary

from .pregnancy_data import (
    blood_pressure,
    due_date,
    gestational_age,
    haemoglobin,
    last_menstrual_period,
    pregnancy_outcome,
    reference,
    resource,
    synthea,
    visit,
    who,
)


def _statuses(summary) -> list[str]:
    return [contact.status for contact in summary.contacts]


def _flags(summary) -> dict[str, tuple[str, ...]]:
    return {flag.code: flag.evidence for flag in summary.flags}


# Laurie McCullough (Synthea): prenatal initial visit 2019-01-19 (Encounter 5c515b23) with a
# Normal pregnancy Condition, induced termination 2019-02-02 (Procedure 9a9d2ed1), a
# "Prenatal visit" for termination care 2019-02-16, and a Hypertension Condition active
# since 2017-09-02 (7fa1d328). Added: the LMP, 2018-12-01, recorded at the initial visit.


def _laurie() -> list[dict]:
    resources = synthea("Laurie_McCullough")
    patient = reference(resources, "ca95b2c5")
    return [
        *resources,
        last_menstrual_period(
            "laurie-lmp",
            "2019-01-19T05:17:03+00:00",
            "2018-12-01",
            patient,
            encounter=reference(resources, "5c515b23"),
        ),
    ]


def test_edd_by_last_menstrual_period():
    resources = _laurie()
    summary = pregnancy_summary(resources, date(2019, 1, 26))
    assert summary.edd == date(2019, 9, 7)  # 2018-12-01 + 280 days
    assert summary.edd_method is DatingMethod.LAST_MENSTRUAL_PERIOD
    assert summary.edd_source == "Observation/laurie-lmp"
    assert summary.gestational_age == 56  # 30 days of December + 26 of January
    assert summary.trimester == 1
    first = summary.contacts[0]
    assert (first.number, first.due, first.status) == (1, date(2019, 2, 23), "done")  # +84
    assert first.visit.reference == reference(resources, "5c515b23")
    assert summary.gestational_age_on(first.visit.date) == 49
    assert _statuses(summary)[1:] == ["upcoming"] * 7
    assert summary.next_contact == (2, date(2019, 4, 20))  # 2018-12-01 + 140 days
    assert summary.outcomes == ()  # the termination is after the summary's date


def test_chronic_hypertension_condition_flags_the_pregnancy():
    """Her high blood pressures (158/102 on 2018-09-08) predate the pregnancy; the
    Hypertension Condition is still active."""
    resources = _laurie()
    summary = pregnancy_summary(resources, date(2019, 1, 26))
    assert _flags(summary) == {"hypertension": (reference(resources, "7fa1d328"),)}


def test_outcome_ends_the_pregnancy():
    resources = _laurie()
    summary = pregnancy_summary(resources, date(2019, 3, 1))
    [outcome] = summary.outcomes
    assert outcome.reference == reference(resources, "9a9d2ed1")
    assert (outcome.date, outcome.coding["code"]) == (date(2019, 2, 2), "714812005")
    assert summary.gestational_age == 63  # at the end: 2018-12-01 to 2019-02-02
    assert summary.edd == date(2019, 9, 7)
    assert _statuses(summary) == ["done"] + ["not-applicable"] * 7
    assert summary.next_contact is None
    # the termination-care "Prenatal visit" of 2019-02-16 is after the end
    assert [v.reference for v in summary.visits] == [reference(resources, "5c515b23")]


def test_no_current_pregnancy_six_weeks_after_the_end():
    resources = _laurie()
    assert pregnancy_summary(resources, date(2019, 3, 16)) is not None  # 2019-02-02 + 42
    assert pregnancy_summary(resources, date(2019, 3, 17)) is None


def test_last_menstrual_period_recorded_too_late_is_not_used():
    """An LMP 383 days before the visit it was recorded at (over 45 weeks) cannot belong
    to the pregnancy: it stays undated."""
    resources = synthea("Laurie_McCullough")
    resources.append(
        last_menstrual_period(
            "old-lmp", "2019-01-19T05:17:03+00:00", "2018-01-01", reference(resources, "ca95b2c5")
        )
    )
    summary = pregnancy_summary(resources, date(2019, 1, 26))
    assert summary.edd is None and summary.contacts == ()
    assert "undated" in _flags(summary)


# Bonnie Marvin (Synthea): three pregnancies, each with a prenatal initial visit, a Normal
# pregnancy Condition and an "Ultrasound scan for fetal viability", each ended by an induced
# termination: 2014-12-04 -> 2014-12-18 (Procedure 32680de2), 2015-04-23 -> 2015-04-30
# (352cab95), 2015-08-20 -> 2015-08-27 (052854b8).


@pytest.mark.parametrize(
    ("day", "termination"),
    [
        (date(2015, 1, 10), "32680de2"),  # within six weeks of 2014-12-18
        (date(2015, 4, 28), None),  # the second pregnancy, before its termination
        (date(2015, 5, 1), "352cab95"),
        (date(2015, 9, 1), "052854b8"),
    ],
)
def test_pregnancies_told_apart_by_their_outcomes(day, termination):
    resources = synthea("Bonnie_Marvin")
    summary = pregnancy_summary(resources, day)
    assert [o.reference for o in summary.outcomes] == (
        [] if termination is None else [reference(resources, termination)]
    )
    assert "undated" in _flags(summary)


def test_no_pregnancy_between_two_pregnancies():
    assert pregnancy_summary(synthea("Bonnie_Marvin"), date(2015, 3, 1)) is None


# Bonnie's second pregnancy with dating added: LMP 2015-02-26 and an ultrasound, both
# recorded at the initial visit of 2015-04-23, 56 days (8 0/7 weeks) after the LMP, where
# ACOG redates only for a discrepancy of more than 5 days.


def _bonnie_second(*added_by_patient) -> list[dict]:
    resources = synthea("Bonnie_Marvin")
    patient = reference(resources, "0af711aa")
    return [
        *resources,
        last_menstrual_period("bonnie-lmp", "2015-04-23T13:01:46+00:00", "2015-02-26", patient),
        *(build(patient) for build in added_by_patient),
    ]


def _ultrasound(days: int):
    return lambda patient: gestational_age(
        "bonnie-us", "11888-5", "2015-04-23T13:01:46+00:00", days, patient
    )


@pytest.mark.parametrize(
    ("ultrasound_days", "edd", "method"),
    [
        # 52 days -> start 2015-03-02, 4 days after the LMP: kept
        (52, date(2015, 12, 3), DatingMethod.LAST_MENSTRUAL_PERIOD),
        # 51 days -> start 2015-03-03, 5 days: kept (more than 5 redates)
        (51, date(2015, 12, 3), DatingMethod.LAST_MENSTRUAL_PERIOD),
        # 50 days -> start 2015-03-04, 6 days: redated, EDD 2015-03-04 + 280
        (50, date(2015, 12, 9), DatingMethod.ULTRASOUND),
        # 62 days -> start 2015-02-20, 6 days earlier: redated
        (62, date(2015, 11, 27), DatingMethod.ULTRASOUND),
    ],
)
def test_ultrasound_against_last_menstrual_period(ultrasound_days, edd, method):
    summary = pregnancy_summary(_bonnie_second(_ultrasound(ultrasound_days)), date(2015, 4, 28))
    assert (summary.edd, summary.edd_method) == (edd, method)
    assert summary.pregnancy.dating.redated is (method is DatingMethod.ULTRASOUND)


def test_edd_by_ultrasound_recorded_as_a_due_date():
    """The ultrasound as LOINC 11781-2 (due date, US composite) on the scan's date."""
    def scan(patient):
        return due_date("bonnie-us-edd", "11781-2", "2015-04-23T13:01:46+00:00", "2015-12-09",
                        patient)

    summary = pregnancy_summary(_bonnie_second(scan), date(2015, 4, 28))
    assert (summary.edd, summary.edd_method.loinc) == (date(2015, 12, 9), "11781-2")
    assert summary.edd_source == "Observation/bonnie-us-edd"
    assert summary.gestational_age == 55  # 2015-03-04 to 2015-04-28


def test_edd_by_ultrasound_alone():
    resources = synthea("Bonnie_Marvin")
    resources.append(
        gestational_age(
            "bonnie-us",
            "11888-5",
            "2015-04-23T13:01:46+00:00",
            50,
            reference(resources, "0af711aa"),
        )
    )
    summary = pregnancy_summary(resources, date(2015, 4, 28))
    assert (summary.edd, summary.edd_method) == (date(2015, 12, 9), DatingMethod.ULTRASOUND)


# Bonnie's third pregnancy carried on: the termination (Procedure 052854b8) is left out.
# Added: the LMP 2015-06-25 recorded at the initial visit of 2015-08-20 (day 56), a
# prenatal visit on 2015-11-12 (day 140, a copy of the bundle's Prenatal visit 6491cf4e)
# and an ultrasound that day measuring 19 0/7 weeks (start 2015-07-02, 7 days after the
# LMP: within the 10 days ACOG allows at 16-21 6/7 weeks). The bundle's own prenatal visit
# of 2015-09-03 (day 70) stays. Due dates of the eight contacts: 2015-09-17, 2015-11-12,
# 2015-12-24, 2016-01-21, 2016-02-18, 2016-03-03, 2016-03-17, 2016-03-31.


def _bonnie_third(*added) -> list[dict]:
    resources = synthea("Bonnie_Marvin", leave_out=("052854b8",))
    patient = reference(resources, "0af711aa")
    return [
        *resources,
        last_menstrual_period("bonnie-lmp", "2015-08-20T13:01:46+00:00", "2015-06-25", patient),
        visit(resource(resources, "6491cf4e"), "bonnie-visit-20wk", "2015-11-12"),
        gestational_age(
            "bonnie-anatomy-scan", "11888-5", "2015-11-12T10:00:00+00:00", 133, patient
        ),
        *added,
    ]


@pytest.mark.parametrize(
    ("day", "statuses", "next_contact"),
    [
        # day 182: contact 3 due today
        (date(2015, 12, 24), ["done", "done", "due"] + ["upcoming"] * 5, (3, date(2015, 12, 24))),
        # day 203: contact 3 more than 14 days late, contact 4 within 14 days of its date
        (
            date(2016, 1, 14),
            ["done", "done", "overdue", "due"] + ["upcoming"] * 4,
            (4, date(2016, 1, 21)),
        ),
        # day 126: contact 2 (2015-11-12) is 14 days ahead: due; not yet done
        (date(2015, 10, 29), ["done", "due"] + ["upcoming"] * 6, (2, date(2015, 11, 12))),
        # day 125: 15 days ahead: upcoming
        (date(2015, 10, 28), ["done"] + ["upcoming"] * 7, (2, date(2015, 11, 12))),
    ],
)
def test_contact_statuses(day, statuses, next_contact):
    resources = _bonnie_third()
    summary = pregnancy_summary(resources, day)
    assert summary.edd == date(2016, 3, 31)  # LMP kept: 7 days is within 10
    assert summary.edd_method is DatingMethod.LAST_MENSTRUAL_PERIOD
    assert [c.due for c in summary.contacts] == [
        date(2015, 9, 17),
        date(2015, 11, 12),
        date(2015, 12, 24),
        date(2016, 1, 21),
        date(2016, 2, 18),
        date(2016, 3, 3),
        date(2016, 3, 17),
        date(2016, 3, 31),
    ]
    assert _statuses(summary) == statuses
    assert summary.next_contact == next_contact
    # the initial visit (day 56) counts for contact 1, not the one of 2015-09-03 (day 70)
    assert summary.contacts[0].visit.reference == reference(resources, "3bd91560")


def test_visits_with_their_gestational_age():
    resources = _bonnie_third()
    summary = pregnancy_summary(resources, date(2016, 1, 14))
    assert [(v.reference, summary.gestational_age_on(v.date)) for v in summary.visits] == [
        (reference(resources, "3bd91560"), 56),
        (reference(resources, "6491cf4e"), 70),
        ("Encounter/bonnie-visit-20wk", 140),
    ]
    assert summary.contacts[1].visit.reference == "Encounter/bonnie-visit-20wk"
    assert (summary.gestational_age, summary.trimester) == (203, 3)  # 29 0/7 weeks


def test_no_flags_for_a_normal_course():
    """Bonnie's own blood pressure of 2015-08-27 (116/73) falls in the pregnancy."""
    assert pregnancy_summary(_bonnie_third(), date(2016, 1, 14)).flags == ()


def _bonnie_blood_pressure(systolic, diastolic):
    template = resource(synthea("Bonnie_Marvin"), "a51a7cc7")
    return blood_pressure(template, "bonnie-bp", "2015-11-12T10:00:00+00:00", systolic, diastolic)


@pytest.mark.parametrize(
    ("systolic", "diastolic", "flagged"),
    [(139, 89, False), (140, 80, True), (120, 90, True), (152, 101, True)],
)
def test_hypertension_from_blood_pressure(systolic, diastolic, flagged):
    summary = pregnancy_summary(
        _bonnie_third(_bonnie_blood_pressure(systolic, diastolic)), date(2015, 11, 20)
    )
    assert _flags(summary) == ({"hypertension": ("Observation/bonnie-bp",)} if flagged else {})


@pytest.mark.parametrize(
    ("value", "unit", "flagged"),
    [
        (10.9, "g/dL", True),
        (11.0, "g/dL", False),
        (105, "g/L", True),
        (110, "g/L", False),
        (6.7, "mmol/L", True),  # 6.7 x 1.61145 = 10.80 g/dL
        (6.9, "mmol/L", False),  # 11.12 g/dL
    ],
)
def test_anaemia_from_haemoglobin(value, unit, flagged):
    template = resource(synthea("Bonnie_Marvin"), "c37d0580")  # 718-7, 15.7 g/dL in 2013
    hb = haemoglobin(template, "bonnie-hb", "2015-11-12T10:00:00+00:00", value, unit)
    summary = pregnancy_summary(_bonnie_third(hb), date(2015, 11, 20))
    assert _flags(summary) == ({"anaemia": ("Observation/bonnie-hb",)} if flagged else {})


def test_post_term_from_42_weeks():
    resources = _bonnie_third()
    assert "post-term" not in _flags(pregnancy_summary(resources, date(2016, 4, 13)))  # 293
    summary = pregnancy_summary(resources, date(2016, 4, 14))  # 2015-06-25 + 294 days
    assert summary.gestational_age == 294 and "post-term" in _flags(summary)
    assert _statuses(summary)[2:] == ["overdue"] * 5 + ["due"]  # contact 8 due 2016-03-31


def test_without_an_early_ultrasound_the_pregnancy_is_suboptimally_dated():
    resources = [r for r in _bonnie_third() if r["id"] != "bonnie-anatomy-scan"]
    assert "suboptimally-dated" not in _flags(pregnancy_summary(resources, date(2015, 11, 25)))
    summary = pregnancy_summary(resources, date(2015, 11, 26))  # day 154 = 22 0/7 weeks
    assert "suboptimally-dated" in _flags(summary)
    # with the scan of day 140 it is not
    with_scan = pregnancy_summary(_bonnie_third(), date(2015, 11, 26))
    assert "suboptimally-dated" not in _flags(with_scan)


def test_live_birth_recorded_as_an_outcome_observation():
    """Added: a live birth (mch-pregnancy-outcome) on 2016-03-28, day 277."""
    resources = _bonnie_third()
    birth = pregnancy_outcome(
        "bonnie-birth",
        "2016-03-28T09:30:00+00:00",
        "281050002",
        "Live birth",
        reference(resources, "0af711aa"),
    )
    summary = pregnancy_summary([*resources, birth], date(2016, 4, 5))
    [outcome] = summary.outcomes
    assert (outcome.date, outcome.coding["code"]) == (date(2016, 3, 28), "281050002")
    assert (summary.gestational_age, summary.trimester) == (277, 3)
    # contact 6 (2016-03-03) was more than 14 days past at the birth, contact 7 (03-17) not
    assert _statuses(summary) == ["done", "done"] + ["overdue"] * 4 + ["not-applicable"] * 2
    assert summary.next_contact is None
    assert "post-term" not in _flags(summary)


# Eboni Brekke (Synthea): prenatal initial visit 2016-05-09 with a Normal pregnancy
# Condition and a Miscarriage in first trimester Condition (ae3d47fe) the same day, and a
# prenatal visit 2016-05-16. No dating is recorded.


def test_miscarriage_of_an_undated_pregnancy():
    resources = synthea("Eboni_Brekke")
    summary = pregnancy_summary(resources, date(2016, 5, 20))
    [outcome] = summary.outcomes
    assert outcome.reference == reference(resources, "ae3d47fe")
    assert (outcome.date, outcome.coding["code"]) == (date(2016, 5, 9), "19169002")
    assert (summary.edd, summary.gestational_age, summary.trimester) == (None, None, None)
    assert summary.contacts == () and _flags(summary) == {"undated": ()}
    assert [v.reference for v in summary.visits] == [reference(resources, "4627aab0")]


# WHO SMART ANC first contact (Charity Otala): the contact of 2021-03-24 (Encounter
# anc-encounter-charity-otala-1, "First antenatal care contact") records a gestational age
# of 15 weeks (18185-9, dated by its Encounter), a confirmed pregnancy, and an LMP written
# as valueDate (not an R4 Observation value, so not read); the pregnancy Condition's onset
# is 2019-05-22. Dating: 2021-03-24 - 105 days = 2020-12-09.


def test_who_first_contact_dated_by_gestational_age():
    summary = pregnancy_summary(who("first-contact"), date(2021, 3, 24))
    assert summary.edd == date(2021, 9, 15)  # 2020-12-09 + 280
    assert summary.edd_method is DatingMethod.CLINICAL
    assert summary.edd_source == "Observation/anc-b6-de17-charity-otala-1"
    assert (summary.gestational_age, summary.trimester) == (105, 2)
    first = summary.contacts[0]
    assert (first.due, first.status) == (date(2021, 3, 3), "done")  # 2020-12-09 + 84
    assert first.visit.reference == "Encounter/anc-encounter-charity-otala-1"
    assert summary.next_contact == (2, date(2021, 4, 28))  # + 140
    # the first contact came at 15 0/7 weeks, after the first trimester
    assert _flags(summary) == {"no-first-trimester-contact": ()}


def test_who_delivery_date_observation_ends_the_pregnancy():
    """Added: the WHO example's delivery date observation (93857-1, 2021-06-06), pointed
    at the scenario's patient: day 179 of the pregnancy."""
    [delivery] = who("examples")
    delivery["subject"] = {"reference": "Patient/charity-otala-1"}
    summary = pregnancy_summary([*who("first-contact"), delivery], date(2021, 6, 10))
    [outcome] = summary.outcomes
    assert (outcome.date, outcome.coding["code"]) == (date(2021, 6, 6), "93857-1")
    assert (summary.gestational_age, summary.trimester) == (179, 2)


def test_who_second_contact_without_dating():
    """A pregnancy Condition (onset 2019-05-22) and a contact of 2019-06-06 whose reason
    is "Prenatal finding": an undated pregnancy with one recorded contact."""
    summary = pregnancy_summary(who("second-contact"), date(2019, 6, 6))
    assert summary.edd is None and _flags(summary) == {"undated": ()}
    assert [v.reference for v in summary.visits] == ["Encounter/mom-second-contact"]

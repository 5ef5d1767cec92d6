"""Forecast scenarios against India's National Immunization Schedule (UIP).

Each test names the NIS row it checks. The oracle is the schedule as MoHFW publishes it
("When to give" and maximum age columns), with dates worked out by hand for a child born
on 1 January 2024: 6 weeks = 2024-02-12, 10 weeks = 2024-03-11, 14 weeks = 2024-04-08,
9 months = 2024-10-01, 12 months = 2025-01-01, 16 months = 2025-05-01, 24 months =
2026-01-01.
"""

from __future__ import annotations

from datetime import date

from fhir_server.mch.immunization import DueStatus, SeriesStatus, forecast

from .immunization_helpers import UIP, immunization, labels, reasons

BORN = date(2024, 1, 1)


def uip(immunizations, as_of, **options):
    return forecast("india-uip", BORN, immunizations, as_of, **options)


def on_time_infancy():
    """Every infant dose of the NIS on its day: birth, 6, 10 and 14 weeks."""
    return [
        immunization("19", "2024-01-01"),              # BCG
        immunization("08", "2024-01-01"),              # Hepatitis B birth dose
        immunization("178", "2024-01-01"),             # OPV-0
        *[immunization(code, "2024-02-12") for code in ("178", "198", "324", "177")],
        immunization("RVV", "2024-02-12", system=UIP),
        *[immunization(code, "2024-03-11") for code in ("178", "198")],
        immunization("RVV", "2024-03-11", system=UIP),
        *[immunization(code, "2024-04-08") for code in ("178", "198", "324", "177")],
        immunization("RVV", "2024-04-08", system=UIP),
    ]


def test_on_time_infant_series_complete_or_waiting_for_the_next_row():
    """Rows: birth (BCG, OPV-0, Hep B birth dose), 6/10/14 weeks (OPV, Pentavalent, RVV),
    6 and 14 weeks (fIPV, PCV); next rows 9-12 months (fIPV-3, PCV booster, MR-1) and
    16-24 months (OPV booster, DPT booster-1)."""
    result = uip(on_time_infancy(), date(2024, 4, 9))
    for series_id in ("bcg", "hepb", "hib", "rotavirus"):
        assert result.get(series_id).status is SeriesStatus.COMPLETE, series_id
    assert labels(result.get("hepb")) == [("Hepatitis B birth dose", True),
                                          ("Pentavalent-1", True), ("Pentavalent-2", True),
                                          ("Pentavalent-3", True)]
    assert result.get("hepb").series_doses == 4

    expected = {  # series: (next dose, earliest, due, overdue, latest)
        "polio-opv": ("OPV booster", date(2025, 5, 1), date(2025, 5, 1), date(2026, 1, 1),
                      date(2028, 12, 31)),
        "polio-ipv": ("fIPV-3", date(2024, 10, 1), date(2024, 10, 1), date(2025, 1, 1),
                      date(2025, 12, 31)),
        "pcv": ("PCV booster", date(2024, 10, 1), date(2024, 10, 1), date(2025, 1, 1),
                date(2025, 12, 31)),
        "dtp.diphtheria": ("DPT booster-1", date(2025, 5, 1), date(2025, 5, 1),
                           date(2026, 1, 1), date(2030, 12, 31)),
        "dtp.pertussis": ("DPT booster-1", date(2025, 5, 1), date(2025, 5, 1),
                          date(2026, 1, 1), date(2030, 12, 31)),
        "mr.measles": ("MR-1", date(2024, 10, 1), date(2024, 10, 1), date(2025, 1, 1),
                       date(2028, 12, 31)),
    }
    for series_id, (label, earliest, due, overdue, latest) in expected.items():
        series = result.get(series_id)
        assert series.status is SeriesStatus.IN_PROGRESS or series_id == "mr.measles"
        dose = series.next_dose
        assert (dose.label, dose.earliest, dose.due, dose.overdue, dose.latest) == (
            label, earliest, due, overdue, latest), series_id
        assert dose.status is DueStatus.NOT_YET_DUE
    assert result.get("polio-opv").next_dose.dose_number == 5   # OPV-0 to OPV-3 counted
    assert result.ignored == ()


def test_pentavalent_counts_for_each_of_its_five_antigens():
    """Row: Pentavalent 1, 2 & 3 at 6, 10 & 14 weeks; pentavalent is DPT-HepB-Hib."""
    result = uip([immunization("198", "2024-02-12")], date(2024, 2, 20))
    for series_id in ("dtp.diphtheria", "dtp.tetanus", "dtp.pertussis", "hepb", "hib"):
        series = result.get(series_id)
        assert [(e.target, e.counted) for e in series.valid_doses] == [("Pentavalent-1", True)]
        assert series.next_dose.label == "Pentavalent-2"
        assert series.next_dose.due == date(2024, 3, 11)
    assert result.get("polio-opv").status is SeriesStatus.NOT_STARTED


def test_dose_before_minimum_age_is_not_counted():
    """Rows: Pentavalent-1 at 6 weeks, MR 1st dose at 9 completed months: a pentavalent at
    5 weeks and an MR at 8 months do not count."""
    result = uip([immunization("198", "2024-02-05"), immunization("MR", "2024-09-01",
                                                                  system=UIP)],
                 date(2024, 9, 2))
    penta = result.get("dtp.diphtheria")
    assert labels(penta) == [("Pentavalent-1", False)]
    assert reasons(penta) == ["too-early"]
    assert penta.status is SeriesStatus.NOT_STARTED
    assert penta.next_dose.label == "Pentavalent-1"
    assert penta.next_dose.earliest == date(2024, 2, 12)
    assert penta.next_dose.status is DueStatus.OVERDUE
    measles = result.get("mr.measles")
    assert reasons(measles) == ["too-early"]
    assert "minimum age of 9m" in measles.doses[0].detail
    assert measles.next_dose.earliest == date(2024, 10, 1)


def test_dose_before_minimum_interval_is_not_counted():
    """NIS: 4 weeks minimum between pentavalent doses; a second dose 3 weeks after the
    first does not count and Pentavalent-2 stays due from 4 weeks after the first."""
    result = uip([immunization("198", "2024-02-12"), immunization("198", "2024-03-04")],
                 date(2024, 3, 5))
    hib = result.get("hib")
    assert labels(hib) == [("Pentavalent-1", True), ("Pentavalent-2", False)]
    assert reasons(hib) == [None, "too-soon"]
    assert hib.next_dose.earliest == date(2024, 3, 11)


def test_late_start_gets_four_week_intervals_instead_of_the_infant_ages():
    """Catch-up, rows Pentavalent 1-3 (6, 10, 14 weeks, minimum 4 weeks apart): a child
    whose first pentavalent is at 7 months gets the second 4 weeks later, not at 10 weeks
    of age, and it is overdue 4 weeks after that."""
    result = uip([immunization("198", "2024-08-01")], date(2024, 8, 15))
    dose = result.get("dtp.tetanus").next_dose
    assert (dose.label, dose.earliest, dose.due, dose.overdue) == (
        "Pentavalent-2", date(2024, 8, 29), date(2024, 8, 29), date(2024, 9, 26))
    assert dose.status is DueStatus.NOT_YET_DUE


def test_after_the_first_birthday_pentavalent_gives_way_to_dpt():
    """Rows with maximum ages, for a child first seen at 14 months with no vaccine: BCG
    (till one year), Pentavalent (till one year: its Hep B and Hib doses age out),
    RVV/fIPV/PCV (start by one year) have aged out; OPV (till 5 years) and MR (till 5
    years) are overdue; the diphtheria-tetanus-pertussis doses continue as DPT."""
    born = date(2023, 1, 1)
    result = forecast("india-uip", born, [], date(2024, 3, 1))
    for series_id in ("bcg", "hepb", "hib", "rotavirus", "polio-ipv", "pcv"):
        assert result.get(series_id).status is SeriesStatus.AGED_OUT, series_id
    opv = result.get("polio-opv").next_dose
    assert (opv.label, opv.due, opv.status) == ("OPV-1", date(2023, 2, 12), DueStatus.OVERDUE)
    dtp = result.get("dtp.pertussis").next_dose
    assert dtp.label == "Pentavalent-1"
    assert [v.id for v in dtp.vaccines] == ["dtwp"]
    assert dtp.status is DueStatus.OVERDUE
    assert result.get("mr.measles").next_dose.status is DueStatus.OVERDUE


def test_rotavirus_ages_out_after_its_maximum_ages():
    """Row: Rotavirus 1, 2, 3 at 6, 10 & 14 weeks; initiation by 1 year, completion by 2
    years. A first dose at 13 months does not count and the series has aged out; a first
    dose at 11 months counts and the second may follow after the first birthday."""
    late = uip([immunization("RVV", "2025-02-01", system=UIP)], date(2025, 2, 2))
    rota = late.get("rotavirus")
    assert reasons(rota) == ["too-late"]
    assert rota.status is SeriesStatus.AGED_OUT
    assert rota.next_dose is None
    assert "RVV-1" in rota.reason

    started = uip([immunization("RVV", "2024-12-01", system=UIP),
                   immunization("RVV", "2025-01-10", system=UIP)], date(2025, 1, 11))
    rota = started.get("rotavirus")
    assert labels(rota) == [("RVV-1", True), ("RVV-2", True)]
    assert rota.next_dose.label == "RVV-3"
    assert rota.next_dose.latest == date(2025, 12, 31)


def test_birth_doses_have_their_own_windows():
    """Rows: Hepatitis B birth dose within 24 hours, OPV-0 within the first 15 days. OPV on
    day 10 is OPV-0; hepatitis B on day 3 is too late for the birth dose and too early for
    pentavalent; without the birth dose the hepatitis B series goes on with pentavalent."""
    result = uip([immunization("178", "2024-01-11"), immunization("08", "2024-01-04")],
                 date(2024, 1, 20))
    assert labels(result.get("polio-opv")) == [("OPV-0", True)]
    hepb = result.get("hepb")
    assert labels(hepb) == [("Pentavalent-1", False)]
    assert reasons(hepb) == ["too-early"]
    assert hepb.next_dose.label == "Pentavalent-1"
    assert hepb.series_doses == 3

    day_20 = uip([immunization("178", "2024-01-21")], date(2024, 1, 22))
    assert labels(day_20.get("polio-opv")) == [("OPV-1", False)]


def test_dpt_booster_waits_six_months_after_the_third_dose():
    """Row: DPT booster-1 at 16-24 months, at least 6 months after the third dose: a
    catch-up third dose (as DPT) at 18 months puts the booster at 24 months."""
    doses = [immunization("198", "2024-08-01"), immunization("198", "2024-09-01"),
             immunization("DPT", "2025-07-01", system=UIP)]
    result = uip(doses, date(2025, 7, 2))
    dtp = result.get("dtp.diphtheria")
    assert [e.target for e in dtp.valid_doses] == ["Pentavalent-1", "Pentavalent-2",
                                                   "Pentavalent-3"]
    assert (dtp.next_dose.label, dtp.next_dose.earliest) == ("DPT booster-1", date(2026, 1, 1))
    assert result.get("hib").status is SeriesStatus.AGED_OUT


def test_je_depends_on_the_district():
    """Row: JE-1 at 9 completed months-12 months, JE-2 at 16-24 months, in endemic
    districts only: 'conditional' without the condition, due with it."""
    unknown = uip([], date(2024, 10, 5)).get("je")
    assert unknown.status is SeriesStatus.CONDITIONAL
    assert "je-endemic-district" in unknown.reason
    assert unknown.next_dose.due == date(2024, 10, 1)
    endemic = uip([], date(2024, 10, 5), conditions=["je-endemic-district"]).get("je")
    assert endemic.status is SeriesStatus.NOT_STARTED
    assert endemic.next_dose.status is DueStatus.DUE


def test_doses_entered_in_error_or_not_done_are_ignored():
    """Only completed doses count (Immunization.status): BCG entered in error and a
    pentavalent not done leave BCG and pentavalent not started."""
    doses = [immunization("19", "2024-01-01", status="entered-in-error", rid="bcg-error"),
             immunization("198", "2024-02-12", status="not-done", rid="penta-not-done"),
             immunization("198", "2024-02-12", rid="penta-subpotent", isSubpotent=True)]
    result = uip(doses, date(2024, 2, 20))
    assert result.get("bcg").status is SeriesStatus.NOT_STARTED
    assert result.get("hib").status is SeriesStatus.NOT_STARTED
    assert {(i.id, i.reason.split(",")[0]) for i in result.ignored} == {
        ("bcg-error", "status is 'entered-in-error'"),
        ("penta-not-done", "status is 'not-done'"),
        ("penta-subpotent", "the dose is subpotent (isSubpotent)")}


def test_same_day_duplicate_is_not_counted_twice():
    """Two OPV doses recorded on the same day (NIS: one dose per visit) count once."""
    result = uip([immunization("178", "2024-02-12"), immunization("OPV", "2024-02-12",
                                                                  system=UIP)],
                 date(2024, 2, 13))
    assert reasons(result.get("polio-opv")) == [None, "duplicate"]


def test_booster_done_completes_the_series_and_extra_doses_are_reported():
    """Rows: OPV-0, OPV 1-3 and OPV booster (16-24 months): after the booster the series is
    complete; another OPV after it is an extra dose."""
    doses = [immunization("178", day) for day in (
        "2024-01-01", "2024-02-12", "2024-03-11", "2024-04-08", "2025-05-01", "2025-06-01")]
    series = uip(doses, date(2025, 7, 1)).get("polio-opv")
    assert series.status is SeriesStatus.COMPLETE
    assert reasons(series)[-1] == "extra"
    assert len(series.valid_doses) == 5

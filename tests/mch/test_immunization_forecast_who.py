"""Forecast scenarios against WHO's recommended routine immunizations for children.

Each test names the row of WHO's summary tables it checks (Table 2: recommended routine
immunizations for children; Table 3: interrupted or delayed immunization). Dates are
worked out by hand: for a child born on 1 January 2024, 6 weeks = 2024-02-12, 10 weeks =
2024-03-11, 14 weeks = 2024-04-08, 9 months = 2024-10-01, 12 months = 2025-01-01.
"""

from __future__ import annotations

from datetime import date

from fhir_server.mch.immunization import DueStatus, SeriesStatus, forecast

from .immunization_helpers import immunization, labels, reasons


def who(born, immunizations, as_of, **options):
    return forecast("who-routine", born, immunizations, as_of, **options)


def test_on_time_infant_with_pentavalent_bopv_pcv_rotarix_and_ipv():
    """Table 2 rows: BCG and HepB at birth; DTPCV (pentavalent: HepB and Hib with it),
    bOPV, PCV 3p+0 at 6, 10, 14 weeks; Rotarix 2 doses; IPV from 14 weeks and a second
    IPV at least 4 months later (minimum 8 weeks); DTPCV booster at 12-23 months; MCV1 and
    RCV at 9 months."""
    born = date(2024, 1, 1)
    doses = [immunization("19", "2024-01-01"), immunization("08", "2024-01-01")]
    for day in ("2024-02-12", "2024-03-11", "2024-04-08"):
        doses += [immunization(code, day) for code in ("198", "178", "177")]
    doses += [immunization("119", "2024-02-12"), immunization("119", "2024-03-11"),
              immunization("10", "2024-04-08")]
    result = who(born, doses, date(2024, 4, 9))
    for series_id in ("bcg", "hepb", "hib", "pcv", "rotavirus", "polio-opv"):
        assert result.get(series_id).status is SeriesStatus.COMPLETE, series_id
    assert len(result.get("hepb").valid_doses) == 4
    assert result.get("rotavirus").series_doses == 2

    ipv = result.get("polio-ipv").next_dose
    assert (ipv.label, ipv.earliest, ipv.due, ipv.overdue) == (
        "IPV-2", date(2024, 6, 3), date(2024, 8, 8), date(2024, 9, 5))
    booster = result.get("dtp.tetanus").next_dose
    assert (booster.label, booster.earliest, booster.due, booster.overdue) == (
        "DTPCV booster (12-23 months)", date(2025, 1, 1), date(2025, 1, 1), date(2026, 1, 1))
    assert booster.latest is None
    for series_id in ("measles", "rubella"):
        dose = result.get(series_id).next_dose
        assert (dose.due, dose.overdue) == (date(2024, 10, 1), date(2025, 1, 1))
    assert result.get("hpv").status is SeriesStatus.CONDITIONAL   # sex not given


def test_three_dose_rotavirus_products_need_a_third_dose():
    """Table 2 rotavirus row: Rotarix 2 doses, RotaTeq (and Rotavac, RotaSiil) 3 doses; a
    series that is not all Rotarix needs 3."""
    born = date(2024, 1, 1)
    for codes in (("116", "116"), ("119", "116"), ("116", "119")):
        doses = [immunization(codes[0], "2024-02-12"), immunization(codes[1], "2024-03-11")]
        rota = who(born, doses, date(2024, 3, 12)).get("rotavirus")
        assert rota.status is SeriesStatus.IN_PROGRESS, codes
        assert (rota.next_dose.label, rota.next_dose.earliest) == ("Rotavirus-3",
                                                                   date(2024, 4, 8))


def test_rotavirus_ages_out_at_24_months():
    """Table 2/3 rotavirus: vaccination of children over 24 months of age is not
    recommended. Due until the day before the second birthday, aged out after; a dose
    given after it does not count."""
    born = date(2022, 1, 1)
    first = [immunization("119", "2022-02-12")]
    last_day = who(born, first, date(2023, 12, 31)).get("rotavirus")
    assert last_day.next_dose.status is DueStatus.OVERDUE
    assert last_day.next_dose.latest == date(2023, 12, 31)

    aged_out = who(born, [*first, immunization("119", "2024-01-05")],
                   date(2024, 1, 10)).get("rotavirus")
    assert aged_out.status is SeriesStatus.AGED_OUT
    assert reasons(aged_out) == [None, "too-late"]
    assert aged_out.next_dose is None


def test_measles_dose_before_nine_months_does_not_count_and_mmr_counts():
    """Table 2 measles row: MCV1 at 9 months, a dose at 6 months (MCV0) does not count
    towards the 2 doses; MCV2 at 15-18 months, at least 4 weeks after MCV1. Rubella: 1
    dose. MMR counts for measles and rubella."""
    born = date(2023, 1, 1)
    doses = [immunization("04", "2023-07-01"), immunization("03", "2023-10-01")]
    result = who(born, doses, date(2023, 10, 15))
    measles = result.get("measles")
    assert labels(measles) == [("MCV1", False), ("MCV1", True)]
    assert reasons(measles) == ["too-early", None]
    dose = measles.next_dose
    assert (dose.label, dose.earliest, dose.due, dose.overdue) == (
        "MCV2", date(2023, 10, 29), date(2024, 4, 1), date(2024, 8, 1))
    assert result.get("rubella").status is SeriesStatus.COMPLETE


def test_dtp_started_after_twelve_months_waits_six_months_for_the_third_dose():
    """Table 3 DTP-containing vaccine: late starters (> 12 months) get 3 doses with at
    least 4 weeks between the 1st and 2nd and at least 6 months between the 2nd and 3rd.
    A child starting at 6 months keeps the 4-week interval."""
    born = date(2022, 1, 1)
    late = who(born, [immunization("198", "2023-07-01"), immunization("198", "2023-08-01")],
               date(2023, 8, 15))
    dose = late.get("dtp.diphtheria").next_dose
    assert (dose.label, dose.earliest) == ("DTPCV-3", date(2024, 2, 1))
    assert late.get("hepb").next_dose.earliest == date(2023, 8, 29)

    early = who(born, [immunization("198", "2022-07-01"), immunization("198", "2022-08-01")],
                date(2022, 8, 15))
    assert early.get("dtp.diphtheria").next_dose.earliest == date(2022, 8, 29)


def test_hib_started_after_twelve_months_is_a_single_dose():
    """Table 2/3 Hib row: single dose if > 12 months of age; not recommended over 5 years.
    Pentavalent at 18 and 19 months: Hib is complete after the first, the second is
    extra."""
    born = date(2022, 1, 1)
    result = who(born, [immunization("198", "2023-07-01"), immunization("198", "2023-08-01")],
                 date(2023, 8, 15))
    hib = result.get("hib")
    assert hib.status is SeriesStatus.COMPLETE
    assert reasons(hib) == [None, "extra"]
    assert who(date(2018, 1, 1), [], date(2023, 6, 1)).get("hib").status is \
        SeriesStatus.AGED_OUT


def test_pcv_catch_up_after_twelve_and_twenty_four_months():
    """Table 3 PCV row: children starting at 12-24 months get 2 doses 8 weeks apart,
    starting after 24 months 1 dose; not given after 5 years."""
    born = date(2022, 1, 1)
    one = who(born, [immunization("177", "2023-02-01")], date(2023, 2, 15)).get("pcv")
    assert (one.next_dose.label, one.next_dose.earliest) == ("PCV-2", date(2023, 3, 29))
    two = who(born, [immunization("177", "2023-02-01"), immunization("177", "2023-04-01")],
              date(2023, 4, 2)).get("pcv")
    assert two.status is SeriesStatus.COMPLETE
    assert two.series_doses == 2
    single = who(born, [immunization("177", "2024-07-01")], date(2024, 7, 2)).get("pcv")
    assert single.status is SeriesStatus.COMPLETE
    assert who(date(2018, 1, 1), [], date(2023, 6, 1)).get("pcv").status is \
        SeriesStatus.AGED_OUT


def test_hpv_is_for_girls_from_nine_years():
    """Table 2 HPV row: girls 9-14 years (one or two doses; single dose here)."""
    born, as_of = date(2014, 1, 1), date(2024, 6, 1)
    girl = who(born, [], as_of, sex="female").get("hpv")
    assert girl.status is SeriesStatus.NOT_STARTED
    assert (girl.next_dose.due, girl.next_dose.overdue, girl.next_dose.status) == (
        date(2023, 1, 1), date(2029, 1, 1), DueStatus.DUE)
    boy = who(born, [], as_of, sex="male").get("hpv")
    assert boy.status is SeriesStatus.NOT_RECOMMENDED
    assert boy.next_dose is None
    assert who(born, [], as_of).get("hpv").status is SeriesStatus.CONDITIONAL


def test_bopv_birth_dose_only_where_the_programme_gives_it():
    """Table 2 polio row, bOPV birth dose footnote (endemic and high-risk countries): an
    OPV at birth counts as the birth dose only under that condition; otherwise it is too
    early for bOPV-1 (6 weeks)."""
    born = date(2024, 1, 1)
    doses = [immunization("178", "2024-01-01")]
    plain = who(born, doses, date(2024, 1, 10)).get("polio-opv")
    assert labels(plain) == [("bOPV-1", False)]
    assert plain.series_doses == 3
    endemic = who(born, doses, date(2024, 1, 10), conditions=["polio-birth-dose"])
    opv = endemic.get("polio-opv")
    assert labels(opv) == [("bOPV birth dose", True)]
    assert (opv.next_dose.label, opv.next_dose.due) == ("bOPV-1", date(2024, 2, 12))
    assert opv.series_doses == 4


def test_hexavalent_counts_for_ipv_and_every_other_antigen_it_contains():
    """Combination vaccines: hexavalent (DTaP-IPV-Hib-HepB, CVX 146) at 14 weeks is IPV-1
    and a dose of DTP, Hib and HepB."""
    result = who(date(2024, 1, 1), [immunization("146", "2024-04-08")], date(2024, 4, 9))
    assert labels(result.get("polio-ipv")) == [("IPV-1", True)]
    for series_id in ("dtp.diphtheria", "dtp.tetanus", "dtp.pertussis", "hib", "hepb"):
        assert len(result.get(series_id).valid_doses) == 1, series_id
    assert result.get("polio-opv").status is SeriesStatus.NOT_STARTED


def test_unvaccinated_school_child_is_offered_td_and_tdap():
    """Table 3 DTP row: over 7 years use Td (tetanus-diphtheria) and only aP-containing
    vaccine for pertussis."""
    result = who(date(2010, 1, 1), [], date(2018, 1, 1))
    assert [v.id for v in result.get("dtp.tetanus").next_dose.vaccines] == ["td"]
    assert [v.id for v in result.get("dtp.pertussis").next_dose.vaccines] == ["tdap"]

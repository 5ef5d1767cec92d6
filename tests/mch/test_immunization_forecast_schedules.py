"""Schedules as data: the shipped files, a deployment's own schedule (with ACIP's 4-day
grace period), selection per deployment and per request, and the errors a client or a
deployment can cause."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from fhir_server.mch.immunization import (
    InvalidForecastRequest,
    ScheduleCatalog,
    ScheduleError,
    SeriesStatus,
    UnknownSchedule,
    forecast,
    schedules,
)
from fhir_server.mch.immunization.vaccines import vaccine_catalog

from .immunization_helpers import immunization, labels, reasons

REPO = Path(__file__).resolve().parents[2]


def acip_dtap_schedule(schedule_id: str = "test-acip-dtap") -> dict:
    """A deployment schedule: ACIP's DTaP doses 1-2 (minimum age 6 weeks, minimum interval 4
    weeks) with ACIP's 4-day grace period (General Best Practice Guidelines for
    Immunization, "Timing and spacing")."""
    return {
        "id": schedule_id, "title": "Test: ACIP DTaP doses 1-2 with the 4-day grace period",
        "source": {"document": "ACIP General Best Practice Guidelines for Immunization",
                   "version": "test extract", "url": "https://www.cdc.gov/acip-recs/"},
        "grace_days": 4,
        "series": [{"id": "dtap", "label": "DTaP", "antigens": ["diphtheria"],
                    "doses": [{"label": "DTaP-1", "min_age": "6w", "recommended_age": "2m",
                               "vaccines": ["dtap"]},
                              {"label": "DTaP-2", "min_age": "10w", "recommended_age": "4m",
                               "min_interval": "4w", "vaccines": ["dtap"]}]}]}


@pytest.fixture
def deployment(tmp_path):
    (tmp_path / "acip.json").write_text(json.dumps(acip_dtap_schedule()))
    return ScheduleCatalog.load([tmp_path], default="india-uip")


def test_shipped_schedules_name_their_sources():
    listed = {s.id: s for s in schedules(ScheduleCatalog.load())}
    assert set(listed) == {"india-uip", "who-routine"}
    assert "Universal Immunization Programme" in listed["india-uip"].document
    assert listed["india-uip"].url.startswith("https://nhm.gov.in/")
    assert "Table 2" in listed["who-routine"].document
    assert listed["who-routine"].url.startswith("https://www.who.int/")
    assert all(s.version for s in listed.values())


def test_shipped_schedules_cover_the_antigens_of_their_source():
    """UIP: BCG, OPV, fIPV, hepatitis B, pentavalent (DTP, Hib), PCV, rotavirus, MR, JE;
    no vitamin A. WHO Table 2, all children: BCG, HepB, polio, DTP, Hib, PCV, rotavirus,
    measles, rubella, HPV."""
    catalog = ScheduleCatalog.load()
    uip = {s.antigen for s in catalog.get("india-uip").series}
    assert uip == {"tuberculosis", "polio", "hepatitis-b", "diphtheria", "tetanus", "pertussis",
                   "hib", "pneumococcal", "rotavirus", "measles", "rubella",
                   "japanese-encephalitis"}
    who = {s.antigen for s in catalog.get("who-routine").series}
    assert who == {"tuberculosis", "polio", "hepatitis-b", "diphtheria", "tetanus", "pertussis",
                   "hib", "pneumococcal", "rotavirus", "measles", "rubella", "hpv"}
    raw = json.loads((REPO / "fhir_server/mch/immunization/schedules/india-uip.json")
                     .read_text())
    assert any("Vitamin A" in item["item"] for item in raw["not_included"])


def test_every_cvx_code_is_a_cvx_code_the_server_knows():
    """The CVX codes of the vaccine list are all in the project's CVX CodeSystem (converted
    by the terminology package from CDC's list), with CDC's short description."""
    shipped = json.loads((REPO / "terminology/data/CodeSystem-cvx.json").read_text())
    known = {c["code"]: c["display"] for c in shipped["concept"]}
    catalog = vaccine_catalog()
    for vaccine in catalog.vaccines.values():
        for code in vaccine.cvx:
            assert known.get(code) == catalog.cvx_display[code], (vaccine.id, code)


def test_grace_period_applies_only_where_the_schedule_says_so(deployment):
    """With grace_days 4, a dose 4 days before the minimum age or interval counts, 5 days
    before does not; the shipped UIP schedule has no grace period."""
    born = date(2024, 1, 1)   # 6 weeks: 2024-02-12
    result = forecast("test-acip-dtap", born,
                      [immunization("20", "2024-02-08"), immunization("20", "2024-03-07")],
                      date(2024, 3, 20), catalog=deployment)
    assert labels(result.get("dtap")) == [("DTaP-1", True), ("DTaP-2", True)]
    early = forecast("test-acip-dtap", born,
                     [immunization("20", "2024-02-07"), immunization("20", "2024-03-11")],
                     date(2024, 3, 20), catalog=deployment)
    assert reasons(early.get("dtap")) == ["too-early", None]
    assert "grace period" in early.get("dtap").doses[0].detail
    soon = forecast("test-acip-dtap", born,
                    [immunization("20", "2024-02-20"), immunization("20", "2024-03-14")],
                    date(2024, 3, 20), catalog=deployment)
    assert reasons(soon.get("dtap")) == [None, "too-soon"]   # 4 weeks after: 2024-03-19
    in_grace = forecast("test-acip-dtap", born,
                        [immunization("20", "2024-02-20"), immunization("20", "2024-03-15")],
                        date(2024, 3, 20), catalog=deployment)
    assert reasons(in_grace.get("dtap")) == [None, None]
    uip = forecast("india-uip", born, [immunization("198", "2024-02-08")], date(2024, 3, 1),
                   catalog=deployment)
    assert reasons(uip.get("dtp.diphtheria")) == ["too-early"]


def test_schedule_per_deployment_and_per_request(deployment):
    assert deployment.get().id == "india-uip"
    by_default = forecast(None, date(2024, 1, 1), [], date(2024, 3, 1), catalog=deployment)
    assert by_default.schedule_id == "india-uip"
    asked = forecast("who-routine", date(2024, 1, 1), [], date(2024, 3, 1), catalog=deployment)
    assert asked.schedule_id == "who-routine"
    assert {s.id for s in schedules(deployment)} == {"india-uip", "who-routine",
                                                     "test-acip-dtap"}


def test_deployment_schedules_from_the_environment(tmp_path, monkeypatch):
    (tmp_path / "acip.json").write_text(json.dumps(acip_dtap_schedule()))
    monkeypatch.setenv("FHIR_IMMUNIZATION_SCHEDULES", str(tmp_path))
    monkeypatch.setenv("FHIR_IMMUNIZATION_SCHEDULE", "test-acip-dtap")
    catalog = ScheduleCatalog.from_environment()
    assert catalog.get().id == "test-acip-dtap"


def test_a_deployment_file_replaces_a_shipped_schedule_with_the_same_id(tmp_path):
    (tmp_path / "who.json").write_text(json.dumps(acip_dtap_schedule("who-routine")))
    catalog = ScheduleCatalog.load([tmp_path])
    assert [s.id for s in catalog.get("who-routine").series] == ["dtap"]


def test_client_errors():
    with pytest.raises(UnknownSchedule, match="Unknown immunization schedule 'cdc'"):
        forecast("cdc", date(2024, 1, 1), [], date(2024, 3, 1))
    with pytest.raises(InvalidForecastRequest, match="before the birth date"):
        forecast("who-routine", date(2024, 1, 1), [], date(2023, 12, 31))
    with pytest.raises(InvalidForecastRequest, match="no condition je-endemic-district"):
        forecast("who-routine", date(2024, 1, 1), [], date(2024, 3, 1),
                 conditions=["je-endemic-district"])


@pytest.mark.parametrize(("change", "message"), [
    ({"series": [{"id": "x", "label": "X", "antigens": ["plague"], "doses": []}]},
     "unknown antigens"),
    ({"series": [{"id": "x", "label": "X", "antigens": ["measles"],
                  "doses": [{"label": "M", "min_age": "9 months", "vaccines": ["mr"]}]}]},
     "not a duration"),
    ({"series": [{"id": "x", "label": "X", "antigens": ["measles"],
                  "doses": [{"label": "M", "vaccines": ["smallpox"]}]}]},
     "unknown vaccine type 'smallpox'"),
    ({"series": [{"id": "x", "label": "X", "antigens": ["measles"], "accepts": ["bcg"],
                  "doses": [{"label": "M", "vaccines": ["mr"]}]}]},
     "accepts a vaccine without measles"),
    ({"grace": 4}, "unknown keys"),
])
def test_malformed_deployment_schedules_are_refused(tmp_path, change, message):
    (tmp_path / "bad.json").write_text(json.dumps({**acip_dtap_schedule(), **change}))
    with pytest.raises(ScheduleError, match=message):
        ScheduleCatalog.load([tmp_path])


def test_future_and_unknown_immunizations_are_set_aside():
    doses = [immunization("19", "2024-05-01", rid="future"),
             immunization("99999", "2024-01-02", rid="unknown-code"),
             immunization("21", "2024-01-02", rid="varicella"),
             immunization("19", "2024", rid="year-only")]
    result = forecast("india-uip", date(2024, 1, 1), doses, date(2024, 3, 1))
    reasons_by_id = {i.id: i.reason for i in result.ignored}
    assert reasons_by_id["future"] == "given after the assessment date"
    assert reasons_by_id["unknown-code"].startswith("vaccine code not known")
    assert reasons_by_id["varicella"] == "no series of schedule 'india-uip' uses Varicella"
    assert reasons_by_id["year-only"] == "no occurrenceDateTime with a day"
    assert result.get("bcg").status is SeriesStatus.NOT_STARTED

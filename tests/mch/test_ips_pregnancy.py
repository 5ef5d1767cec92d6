"""The History of Pregnancy section of the IPS ``Patient/[id]/$summary`` (IPS 2.0
Composition, section ``sectionPregnancyHx``, LOINC 10162-6): the gestational age of an
ongoing pregnancy today, of one that has ended at its end with its outcome, and the MCH
pregnancy records (mch-pregnancy-outcome and the other pregnancy profiles) as entries."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from .operation_helpers import load
from .pregnancy_data import LOINC, SNOMED, UCUM, last_menstrual_period

PROFILES = Path(__file__).parents[2] / "profiles" / "mch"
VALUE_SETS = Path(__file__).parents[2] / "terminology" / "data"
# The project's profiles of a woman's pregnancy records (not the newborn's, whose subject
# is the child).
PREGNANCY_PROFILES = ("mch-pregnancy-status", "mch-estimated-due-date", "mch-gestational-age",
                      "mch-pregnancy-outcome")


def _today() -> date:
    return datetime.now(UTC).date()


def _mother(pid: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": pid, "gender": "female",
            "birthDate": "1995-05-05", "name": [{"family": "Wanjiru"}]}


def _outcome(rid: str, pid: str, day: date) -> dict[str, Any]:
    """An mch-pregnancy-outcome Observation: a live birth on ``day``."""
    return {"resourceType": "Observation", "id": rid, "status": "final",
            "meta": {"profile": [
                "https://mch-fhir.org/fhir/StructureDefinition/mch-pregnancy-outcome"]},
            "code": {"coding": [{"system": LOINC, "code": "63893-2",
                                 "display": "Outcome of pregnancy"}]},
            "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": day.isoformat(),
            "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "281050002",
                                                 "display": "Livebirth"}]}}


async def _history(client, pid: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The History of Pregnancy section and the document's resources by fullUrl."""
    response = await client.get(f"Patient/{pid}/$summary")
    assert response.status_code == 200, response.text
    document = response.json()
    [section] = [s for s in document["entry"][0]["resource"]["section"]
                 if s["code"]["coding"][0]["code"] == "10162-6"]
    return section, {e["fullUrl"]: e["resource"] for e in document["entry"]}


def _generated_age(section: dict[str, Any], by_url: dict[str, dict[str, Any]]
                   ) -> dict[str, Any]:
    [age] = [by_url[e["reference"]] for e in section["entry"]
             if e["reference"].startswith("urn:uuid:")
             and by_url[e["reference"]]["code"]["coding"][0]["code"] == "18185-9"]
    return age


def _stated(days: int) -> str:
    weeks, rest = divmod(days, 7)
    return (f"{weeks} {'week' if weeks == 1 else 'weeks'} "
            f"{rest} {'day' if rest == 1 else 'days'}")


async def test_an_ended_pregnancy_gives_the_age_at_its_end_and_its_outcome(mch_server):
    # A live birth ten days ago, 274 days (39 weeks 1 day) after the LMP: within the six
    # weeks after the end the summary still shows that pregnancy, at its end.
    end = _today() - timedelta(days=10)
    start = end - timedelta(days=274)
    await load(mch_server, [
        _mother("ips-ended"),
        last_menstrual_period("ips-ended-lmp", (start + timedelta(days=60)).isoformat(),
                              start.isoformat(), "Patient/ips-ended"),
        _outcome("ips-ended-birth", "ips-ended", end)])
    section, by_url = await _history(mch_server, "ips-ended")
    text = section["text"]["div"]
    assert (f"Pregnancy ended on {end.isoformat()} (Livebirth) at a gestational age of "
            "39 weeks 1 day.") in text
    assert "today" not in text and "1 days" not in text
    age = _generated_age(section, by_url)
    assert age["effectiveDateTime"] == end.isoformat()
    assert age["valueQuantity"] == {"value": 274, "unit": "d", "system": UCUM, "code": "d"}
    # The outcome Observation is an entry of the section, its value in the narrative.
    references = {e["reference"] for e in section["entry"]}
    assert {"Observation/ips-ended-birth", "Observation/ips-ended-lmp"} <= references
    assert "<li>Outcome of pregnancy: Livebirth</li>" in text


async def test_an_ongoing_pregnancy_gives_the_age_today_in_proper_english(mch_server):
    start = _today() - timedelta(days=50)  # 7 weeks 1 day
    await load(mch_server, [_mother("ips-ongoing"), last_menstrual_period(
        "ips-ongoing-lmp", _today().isoformat(), start.isoformat(), "Patient/ips-ongoing")])
    section, by_url = await _history(mch_server, "ips-ongoing")
    age = _generated_age(section, by_url)
    days = (date.fromisoformat(age["effectiveDateTime"]) - start).days  # 51 past midnight
    assert age["valueQuantity"]["value"] == days
    due = (start + timedelta(days=280)).isoformat()
    assert (f"Gestational age today: {_stated(days)} (estimated due date {due})."
            in section["text"]["div"])


def _profile_codes(name: str) -> set[str]:
    """The LOINC codes an MCH profile fixes on Observation.code or binds it to."""
    profile = json.loads((PROFILES / f"{name}.json").read_text())
    [element] = [e for e in profile["differential"]["element"]
                 if e["path"] == "Observation.code"]
    if "patternCodeableConcept" in element:
        return {c["code"] for c in element["patternCodeableConcept"]["coding"]}
    value_set = element["binding"]["valueSet"].rsplit("/", 1)[-1]
    found = json.loads((VALUE_SETS / f"ValueSet-{value_set}.json").read_text())
    return {c["code"] for include in found["compose"]["include"]
            if include["system"] == LOINC for c in include["concept"]}


async def test_every_mch_pregnancy_record_is_in_the_history_of_pregnancy(mch_server):
    codes = sorted(set().union(*map(_profile_codes, PREGNANCY_PROFILES)))
    assert {"63893-2", "82810-3", "11781-2", "11888-5"} <= set(codes)
    # Recorded long ago, so that no current pregnancy is dated from them.
    observations = [{"resourceType": "Observation", "id": f"ips-all-{code}", "status": "final",
                     "code": {"coding": [{"system": LOINC, "code": code}]},
                     "subject": {"reference": "Patient/ips-all"},
                     "effectiveDateTime": "2010-01-01", "valueString": "recorded"}
                    for code in codes]
    await load(mch_server, [_mother("ips-all"), *observations])
    section, _ = await _history(mch_server, "ips-all")
    assert sorted(e["reference"] for e in section["entry"]) == sorted(
        f"Observation/ips-all-{code}" for code in codes)

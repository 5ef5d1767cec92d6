"""Searching: every modifier and result parameter that can expose data, at type, system
and compartment level, GET and POST, with includes, chains, ``_has``, sorting, counts and
paging (every ``next`` link is followed).

Population searches (no target) must list exactly what the oracle lists that the actor
may see; searches naming a patient whose record is hidden from the actor must answer as
for a patient that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .checks import check_cell
from .data import HIV_DISEASE, HIV_TEST, LOINC, PSY, SNOMED
from .expect import STATIC
from .paths import Path, cells

HIV = f"{LOINC}|{HIV_TEST}"
HIV_DX = f"{SNOMED}|{HIV_DISEASE}"
PSY_LABEL = f"{PSY['system']}|{PSY['code']}"


def _linked(element: str) -> Callable[[str, str], list[str]]:
    """A match's join: the resource its ``element`` refers to."""
    def joins(reference: str, situation: str) -> list[str]:
        value = STATIC.get(reference, {}).get(element)
        return [value["reference"]] if isinstance(value, dict) else []
    return joins


def _has(pattern: str) -> Callable[[str, str], list[str]]:
    """A Patient's join through ``_has``: her resource ``pattern`` (``{p}`` her id)."""
    return lambda reference, situation: [pattern.format(p=reference.split("/")[1])]


POPULATION = [
    # the server derives "which patient" from the query: modifiers on patient references
    Path("obs-patient-missing", "GET", "/fhir/Observation?patient:missing=false&_total=accurate"),
    Path("obs-encounter-missing", "GET",
         "/fhir/Observation?encounter:missing=true&_total=accurate"),
    Path("patient-id-not", "GET", "/fhir/Patient?_id:not=zzz&_total=accurate"),
    Path("patient-id-missing", "GET", "/fhir/Patient?_id:missing=false&_total=accurate"),
    Path("obs-id-not", "GET", "/fhir/Observation?_id:not=zzz&_total=accurate"),
    # content: masked resources must never match
    Path("obs-code", "GET", f"/fhir/Observation?code={HIV}&_total=accurate", content=True),
    Path("obs-code-not", "GET", f"/fhir/Observation?code:not={LOINC}|85354-9&_total=accurate",
         content=True),
    Path("obs-security", "GET", f"/fhir/Observation?_security={PSY_LABEL}&_total=accurate",
         content=True),
    Path("obs-value-string", "GET", "/fhir/Observation?value-string=secret&_total=accurate",
         content=True),
    Path("obs-content", "GET", "/fhir/Observation?_content=secret&_total=accurate",
         content=True),
    Path("obs-text", "GET", "/fhir/Observation?_text=secret&_total=accurate", content=True),
    Path("condition-code", "GET", f"/fhir/Condition?code={HIV_DX}&_total=accurate",
         content=True),
    # result parameters
    Path("obs-sort-code", "GET", "/fhir/Observation?_sort=code", content=True),
    Path("obs-sort-date-paged", "GET", "/fhir/Observation?_sort=-date&_count=2&_total=accurate",
         content=True),
    Path("obs-paged", "GET", "/fhir/Observation?_count=3&_total=accurate"),
    Path("obs-elements", "GET", "/fhir/Observation?_elements=valueString,code&_count=50"),
    Path("obs-summary-true", "GET", "/fhir/Observation?_summary=true&_count=50"),
    Path("obs-summary-count", "GET", "/fhir/Observation?_summary=count",
         count_of="/fhir/Observation?_count=100"),
    Path("obs-missing-count", "GET", "/fhir/Observation?patient:missing=false&_summary=count",
         count_of="/fhir/Observation?patient:missing=false&_count=100"),
    Path("obs-code-count", "GET", f"/fhir/Observation?code={HIV}&_summary=count",
         count_of=f"/fhir/Observation?code={HIV}&_count=100", content=True),
    Path("patient-count", "GET", "/fhir/Patient?_summary=count&_id:not=zzz",
         count_of="/fhir/Patient?_id:not=zzz&_count=100"),
    Path("obs-count-zero", "GET", "/fhir/Observation?_count=0&_total=accurate",
         count_of="/fhir/Observation?_count=100"),
    # includes (an include must hang on a match shown) and revincludes, :iterate
    Path("obs-include-subject", "GET", "/fhir/Observation?_include=Observation:subject"),
    Path("obs-code-include", "GET", f"/fhir/Observation?code={HIV}"
         "&_include=Observation:subject&_include=Observation:encounter", content=True),
    Path("obs-include-iterate", "GET", "/fhir/Observation?_include=Observation:encounter"
         "&_include:iterate=Encounter:subject"),
    Path("encounter-revinclude", "GET", "/fhir/Encounter?_revinclude=Observation:encounter"),
    Path("patient-revinclude-iterate", "GET", "/fhir/Patient?_revinclude=Encounter:subject"
         "&_revinclude:iterate=Observation:encounter"),
    Path("patient-revinclude-group", "GET", "/fhir/Patient?_revinclude=Group:member"),
    Path("patient-revinclude-consent", "GET", "/fhir/Patient?_revinclude=Consent:patient"),
    Path("obs-include-star", "GET", "/fhir/Observation?_include=*"),
    # chains and reverse chains: through what the actor may see only
    Path("obs-chain-gender", "GET", "/fhir/Observation?subject:Patient.gender=female",
         joins=_linked("subject")),
    Path("obs-chain-encounter", "GET", "/fhir/Observation?encounter.status=finished",
         joins=_linked("encounter")),
    Path("patient-has-hiv", "GET", f"/fhir/Patient?_has:Observation:patient:code={HIV}",
         content=True, joins=_has("Observation/{p}-hiv")),
    Path("patient-has-psy", "GET",
         f"/fhir/Patient?_has:Observation:subject:_security={PSY_LABEL}", content=True,
         joins=_has("Observation/{p}-psy")),
    Path("patient-has-condition", "GET", f"/fhir/Patient?_has:Condition:subject:code={HIV_DX}",
         content=True, joins=_has("Condition/{p}-hivdx")),
    Path("encounter-has-hiv", "GET", f"/fhir/Encounter?_has:Observation:encounter:code={HIV}",
         content=True, joins=lambda r, s: [f"Observation/{r.split('/')[1][:-4]}-hiv"]),
    # system level, GET and POST
    Path("system-id-not", "GET", "/fhir?_type=Observation,Patient,Condition&_id:not=zzz"),
    Path("system-code", "GET", f"/fhir?_type=Observation,Condition&code={HIV},{HIV_DX}"
         "&_total=accurate", content=True),
    Path("system-count", "GET", "/fhir?_type=Observation,Patient&_summary=count",
         count_of="/fhir?_type=Observation,Patient&_count=100"),
    Path("system-search-get", "GET", f"/fhir/_search?_type=Observation&code={HIV}",
         content=True),
    Path("system-post", "POST", "/fhir/_search", body="_type=Observation,Condition"
         "&_id:not=zzz&_total=accurate", form=True),
    Path("post-missing", "POST", "/fhir/Observation/_search",
         body="patient:missing=false&_total=accurate", form=True),
    Path("post-code", "POST", "/fhir/Observation/_search", body=f"code={HIV}", form=True,
         content=True),
    Path("post-security", "POST", "/fhir/Observation/_search",
         body=f"_security={PSY_LABEL}&_total=accurate", form=True, content=True),
    Path("post-elements", "POST", "/fhir/Observation/_search",
         body="_elements=valueString&_count=50", form=True),
    # the other resource types of the record
    *(Path(f"{kind.lower()}-all", "GET", f"/fhir/{kind}?_total=accurate")
      for kind in ("Group", "Binary", "Consent", "Immunization")),
    Path("group-member", "GET", "/fhir/Group?member=Patient/bea", narrowing=True),
    # history: filtered at type and system level, never refused
    *(Path(f"history-{kind.lower()}", "GET", f"/fhir/{kind}/_history?_count=100")
      for kind in ("Observation", "Group", "Binary", "Consent")),
    Path("history-system", "GET", "/fhir/_history?_count=100"),
    # $everything at type level, every patient
    Path("everything-type", "GET", "/fhir/Patient/$everything?_count=30"),
]

ONE_PATIENT = [
    Path("obs-patient", "GET", "/fhir/Observation?patient={id}&_total=accurate"),
    Path("obs-patient-version", "GET",
         "/fhir/Observation?patient=Patient/{id}/_history/1&_total=accurate"),
    Path("obs-subject-version", "GET",
         "/fhir/Observation?subject=Patient/{id}/_history/1&_total=accurate"),
    Path("obs-subject-typed", "GET", "/fhir/Observation?subject:Patient={id}&_summary=count",
         count_of="/fhir/Observation?subject:Patient={id}&_count=100"),
    Path("obs-patient-count", "GET", "/fhir/Observation?patient={id}&_summary=count",
         count_of="/fhir/Observation?patient={id}&_count=100"),
    Path("obs-patient-code", "GET", f"/fhir/Observation?patient={{id}}&code={HIV}",
         content=True),
    Path("obs-chain-id", "GET", "/fhir/Observation?subject._id={id}&_total=accurate",
         joins=_linked("subject")),
    Path("obs-patient-or", "GET", "/fhir/Observation?patient={id},bea&_total=accurate"),
    Path("compartment-obs", "GET", "/fhir/Patient/{id}/Observation?_total=accurate"),
    Path("compartment-obs-code", "GET", f"/fhir/Patient/{{id}}/Observation?code={HIV}",
         content=True),
    Path("compartment-all", "GET", "/fhir/Patient/{id}/*?_count=5"),
    Path("compartment-group", "GET", "/fhir/Patient/{id}/Group"),
    Path("patient-id-revinclude", "GET",
         "/fhir/Patient?_id={id}&_revinclude=Observation:subject&_revinclude=Group:member"),
    Path("group-member-patient", "GET", "/fhir/Group?member=Patient/{id}"),
    Path("post-patient-version", "POST", "/fhir/Observation/_search",
         body="subject=Patient/{id}/_history/1&_total=accurate", form=True),
    Path("system-patient", "GET", "/fhir?_type=Observation&patient={id}&_total=accurate"),
]
ONE_PATIENT = [Path(p.name, p.method, p.url, "patient", body=p.body, form=p.form,
                    content=p.content, count_of=p.count_of, joins=p.joins, narrowing=True)
               for p in ONE_PATIENT]


LEAKS = ()


CORE = {"obs-patient-missing", "patient-id-not", "obs-code", "obs-security", "obs-elements",
        "obs-summary-count", "obs-include-subject", "patient-has-hiv", "system-id-not",
        "post-missing", "binary-all", "history-system", "everything-type",
        "obs-patient-version", "compartment-obs", "patient-id-revinclude"}


@pytest.mark.parametrize("actor, path, situation", cells(POPULATION, LEAKS, core=CORE))
async def test_population_search(server, actor, path, situation):
    await check_cell(server, actor, path, situation)


@pytest.mark.parametrize("actor, path, situation", cells(ONE_PATIENT, LEAKS, core=CORE))
async def test_one_patient_search(server, actor, path, situation):
    await check_cell(server, actor, path, situation)

"""Operations and special resources: ``$everything`` (instance and type level, paged,
``_type``), ``$summary``, ``$consent-explain`` (only for the patient, her delegates and
privacy officers; the same answer for hidden and absent), Binary (raw content, FHIR JSON,
search, history) whose ``securityContext`` is the patient, and a Group naming two
patients (read, includes, reverse chains)."""

from __future__ import annotations

import pytest

from .checks import check_cell
from .data import ACTORS, HIV_TEST, LOINC
from .paths import Path, cells

_EVERYTHING = [
    Path("everything", "GET", "/fhir/Patient/{id}/$everything?_count=100"),
    Path("everything-paged", "GET", "/fhir/Patient/{id}/$everything?_count=4"),
    Path("everything-types", "GET", "/fhir/Patient/{id}/$everything"
         "?_type=Observation,Group,Binary,Consent,Condition,RelatedPerson"),
    Path("everything-type-level", "GET", "/fhir/Patient/$everything?patient={id}&_count=100"),
    Path("everything-post", "POST", "/fhir/Patient/{id}/$everything", body={
        "resourceType": "Parameters", "parameter": [{"name": "_count", "valueInteger": 100}]}),
    Path("summary", "GET", "/fhir/Patient/{id}/$summary"),
    Path("validate-patient", "GET", "/fhir/Patient/{id}/$validate"),
    # the maternal and child operations read the record through the policy too
    Path("lastn", "GET", "/fhir/Observation/$lastn?patient={id}&max=5"),
    Path("lastn-code", "GET", f"/fhir/Observation/$lastn?patient={{id}}&code={LOINC}|{HIV_TEST}"),
    Path("growth", "GET", "/fhir/Patient/{id}/$growth"),
    Path("pregnancy-summary", "GET", "/fhir/Patient/{id}/$pregnancy-summary"),
    Path("immds-forecast", "GET", "/fhir/Patient/{id}/$immds-forecast"),
]
EVERYTHING = [Path(p.name, p.method, p.url, "patient", body=p.body, narrowing=True,
                   content=p.name == "lastn-code") for p in _EVERYTHING]

BINARY = [
    Path("binary-raw", "GET", "/fhir/Binary/{id}", "binary"),
    Path("binary-json", "GET", "/fhir/Binary/{id}", "binary",
         headers={"Accept": "application/fhir+json"}),
    Path("binary-head", "HEAD", "/fhir/Binary/{id}", "binary"),
    Path("binary-vread", "GET", "/fhir/Binary/{id}/_history/1", "binary"),
    Path("binary-history", "GET", "/fhir/Binary/{id}/_history", "binary"),
    Path("binary-search-id", "GET", "/fhir/Binary?_id={id}&_total=accurate", "binary"),
    Path("binary-batch", "POST", "/fhir", "binary", body={
        "resourceType": "Bundle", "type": "batch",
        "entry": [{"request": {"method": "GET", "url": "Binary/{id}"}}]}),
]

GROUP = [
    Path("group-include-member", "GET", "/fhir/Group?_id={id}&_include=Group:member", "group"),
    Path("group-members-has", "GET", "/fhir/Patient?_has:Group:member:_id={id}", "group",
         joins=lambda reference, situation: [f"Group/{situation}-grp"], narrowing=True),
    Path("group-read-elements", "GET", "/fhir/Group/{id}?_elements=member", "group"),
    Path("group-history", "GET", "/fhir/Group/{id}/_history", "group"),
]

EXPLAIN_ACTORS = ("self", "other", "doc", "clerk", "outsider", "backend", "narrow", "doc-btg",
                  "delegate")
EXPLAIN = [
    Path("explain-own", "GET", "/fhir/Patient/{patient}/$consent-explain"
         "?actor=Practitioner/outsider&resource={ref}", "obs", positive=False),
    Path("explain-condition", "GET", "/fhir/Patient/{patient}/$consent-explain"
         "?actor=Practitioner/doc&resource={ref}", "condition", positive=False),
    Path("explain-other-patient", "GET", "/fhir/Patient/{patient}/$consent-explain"
         "?actor=Practitioner/doc&resource={ref}", "bea", positive=False),
    Path("explain-post", "POST", "/fhir/Patient/{patient}/$consent-explain", "obs", body={
        "resourceType": "Parameters", "parameter": [
            {"name": "actor", "valueReference": {"reference": "Practitioner/outsider"}},
            {"name": "resource", "valueReference": {"reference": "{ref}"}}]},
         positive=False),
]

LEAKS = ()


CORE = {"everything", "summary", "binary-raw", "group-include-member", "explain-own"}


@pytest.mark.parametrize("actor, path, situation",
                         cells(EVERYTHING + BINARY + GROUP, LEAKS, core=CORE))
async def test_operation(server, actor, path, situation):
    await check_cell(server, actor, path, situation)


@pytest.mark.parametrize("actor, path, situation",
                         cells(EXPLAIN, LEAKS, EXPLAIN_ACTORS, core=CORE))
async def test_consent_explain(server, actor, path, situation):
    answer = await check_cell(server, actor, path, situation)
    allowed = actor in ("self", "delegate")
    if not allowed:
        assert answer.response.status_code == 403, answer.response.text
    else:
        assert answer.response.status_code in (200, 400, 404), answer.response.text


@pytest.mark.parametrize("situation, decision", [
    ("den", "deny"), ("hiv", "deny"), ("psy", "permit"), ("free", "permit")])
async def test_privacy_officer_explains_any_resource(server, situation, decision):
    """A privacy officer explains denials: she may learn what exists (her role) and gets
    the decision, never the content; an absent resource is 404."""
    officer = ACTORS["officer"]
    ask = f"/fhir/Patient/{situation}/$consent-explain?actor=Practitioner/outsider&resource="
    found = await server.ask(officer, situation, "GET", f"{ask}Observation/{situation}-hiv")
    assert found.status_code == 200, found.text
    assert "secret-" not in found.text
    assert [p["valueCode"] for p in found.json()["parameter"] if p["name"] == "decision"] \
        == [decision]
    absent = await server.ask(officer, situation, "GET", f"{ask}Observation/{situation}-nope")
    assert absent.status_code == 404, absent.text

"""The terminology operations over HTTP against the real database: $lookup, $subsumes,
$validate-code (CodeSystem and ValueSet), $expand and $translate, on shipped content, on
content stored through the REST API, and on resources posted with the request
(https://hl7.org/fhir/R4/terminology-service.html)."""

from __future__ import annotations

import json
from pathlib import Path

FHIR_JSON = {"Content-Type": "application/fhir+json"}
CVX_FILE = Path(__file__).parents[2] / "terminology" / "data" / "CodeSystem-cvx.json"
CVX = "http://hl7.org/fhir/sid/cvx"
SNOMED = "http://snomed.info/sct"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PREGNANCY_STATUS = "https://mch-fhir.org/fhir/ValueSet/pregnancy-status"
FEEDING = "https://example.org/CodeSystem/infant-feeding"
FEEDING_SYSTEM = {
    "resourceType": "CodeSystem", "id": "infant-feeding", "url": FEEDING, "status": "active",
    "content": "complete", "name": "InfantFeeding", "version": "1",
    "concept": [
        {"code": "breast", "display": "Breast milk", "concept": [
            {"code": "exclusive", "display": "Exclusive breastfeeding"},
            {"code": "partial", "display": "Partial breastfeeding"}]},
        {"code": "formula", "display": "Infant formula"}]}
FEEDING_SET = {
    "resourceType": "ValueSet", "id": "breastfeeding", "status": "active",
    "url": "https://example.org/ValueSet/breastfeeding",
    "compose": {"include": [{"system": FEEDING, "filter": [
        {"property": "concept", "op": "is-a", "value": "breast"}]}],
        "exclude": [{"system": FEEDING, "concept": [{"code": "partial"}]}]}}


def _parameters(response) -> dict:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["resourceType"] == "Parameters"
    found: dict = {}
    for parameter in body["parameter"]:
        value = next((v for k, v in parameter.items() if k.startswith("value")),
                     parameter.get("part"))
        found.setdefault(parameter["name"], []).append(value)
    return found


async def test_lookup_a_cvx_code(client):
    found = _parameters(await client.get(f"CodeSystem/$lookup?system={CVX}&code=20"))
    assert found["name"] == ["CVX"] and found["display"] == ["DTaP"]
    assert found["definition"] == [
        "diphtheria, tetanus toxoids and acellular pertussis vaccine"]


async def test_lookup_with_a_coding_in_a_parameters_body(client):
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "coding", "valueCoding": {"system": ACT_CODE, "code": "AMB"}}]}
    found = _parameters(await client.post("CodeSystem/$lookup", json=body, headers=FHIR_JSON))
    assert found["display"] == ["ambulatory"]
    parents = [p[1]["valueCode"] for p in found["property"] if p[0]["valueCode"] == "parent"]
    assert parents == ["_ActEncounterCode"]


async def test_lookup_unknown_code_and_system(client):
    unknown_code = await client.get(f"CodeSystem/$lookup?system={CVX}&code=99999")
    assert unknown_code.status_code == 404
    assert "99999" in unknown_code.json()["issue"][0]["diagnostics"]
    unknown_system = await client.get("CodeSystem/$lookup?system=http://example.org/x&code=1")
    assert unknown_system.status_code == 404
    no_code = await client.get(f"CodeSystem/$lookup?system={CVX}")
    assert no_code.status_code == 400


async def test_lookup_ucum(client):
    found = _parameters(await client.get(
        "CodeSystem/$lookup?system=http://unitsofmeasure.org&code=mm%5BHg%5D"))
    assert found["display"] == ["mm[Hg]"]
    bad = await client.get("CodeSystem/$lookup?system=http://unitsofmeasure.org&code=mmHg")
    assert bad.status_code == 404


async def test_subsumes(client):
    async def outcome(a, b):
        found = _parameters(await client.get(
            f"CodeSystem/$subsumes?system={ACT_CODE}&codeA={a}&codeB={b}"))
        return found["outcome"][0]
    assert await outcome("_ActEncounterCode", "AMB") == "subsumes"
    assert await outcome("AMB", "_ActEncounterCode") == "subsumed-by"
    assert await outcome("AMB", "AMB") == "equivalent"
    assert await outcome("AMB", "IMP") == "not-subsumed"
    missing = await client.get(f"CodeSystem/$subsumes?system={ACT_CODE}&codeA=AMB")
    assert missing.status_code == 400


async def test_validate_code_in_a_value_set(client):
    url = f"ValueSet/$validate-code?url={PREGNANCY_STATUS}&system={SNOMED}"
    good = _parameters(await client.get(f"{url}&code=77386006"))
    assert good["result"] == [True] and good["display"] == ["Pregnant"]
    bad = _parameters(await client.get(f"{url}&code=72892002"))
    assert bad["result"] == [False] and "not in the value set" in bad["message"][0]
    wrong_display = _parameters(await client.get(f"{url}&code=77386006&display=Expecting"))
    assert wrong_display["result"] == [False] and "Pregnant" in wrong_display["message"][0]


async def test_validate_code_with_a_codeable_concept(client):
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "url", "valueUri": PREGNANCY_STATUS},
        {"name": "codeableConcept", "valueCodeableConcept": {"coding": [
            {"system": "http://loinc.org", "code": "LA15173-0"},
            {"system": SNOMED, "code": "60001007"}]}}]}
    found = _parameters(await client.post("ValueSet/$validate-code", json=body,
                                          headers=FHIR_JSON))
    assert found["result"] == [True] and found["display"] == ["Not pregnant"]


async def test_validate_code_in_a_code_system(client):
    good = _parameters(await client.get(f"CodeSystem/$validate-code?url={CVX}&code=208"))
    assert good["result"] == [True]
    bad = _parameters(await client.get(f"CodeSystem/$validate-code?url={CVX}&code=0000"))
    assert bad["result"] == [False]
    ucum = _parameters(await client.get(
        "CodeSystem/$validate-code?url=http://unitsofmeasure.org&code=kg%2Fm2"))
    assert ucum["result"] == [True]


async def test_validate_code_in_a_value_set_that_cannot_be_expanded(client):
    response = await client.get("ValueSet/$validate-code?url=http://hl7.org/fhir/ValueSet/"
                                f"clinical-findings&system={SNOMED}&code=77386006")
    assert response.status_code == 400
    assert "cannot be expanded" in response.json()["issue"][0]["diagnostics"]


async def test_expand_with_filter_count_and_offset(client):
    response = await client.get(f"ValueSet/$expand?url={PREGNANCY_STATUS}&filter=PREG&count=2")
    assert response.status_code == 200, response.text
    expansion = response.json()["expansion"]
    assert expansion["total"] == 4 and expansion["offset"] == 0
    assert [c["code"] for c in expansion["contains"]] == ["146799005", "152231000119106"]
    rest = (await client.get(
        f"ValueSet/$expand?url={PREGNANCY_STATUS}&filter=preg&count=2&offset=2")).json()
    assert [c["display"] for c in rest["expansion"]["contains"]] == ["Not pregnant",
                                                                     "Pregnant"]
    bad = await client.get(f"ValueSet/$expand?url={PREGNANCY_STATUS}&count=-1")
    assert bad.status_code == 400


async def test_stored_code_system_and_value_set(client):
    assert (await client.put("CodeSystem/infant-feeding", json=FEEDING_SYSTEM,
                             headers=FHIR_JSON)).status_code == 201
    assert (await client.put("ValueSet/breastfeeding", json=FEEDING_SET,
                             headers=FHIR_JSON)).status_code == 201
    expanded = (await client.get("ValueSet/breastfeeding/$expand")).json()
    assert sorted(c["code"] for c in expanded["expansion"]["contains"]) == ["breast",
                                                                            "exclusive"]
    by_url = (await client.get(f"ValueSet/$expand?url={FEEDING_SET['url']}")).json()
    assert by_url["expansion"]["total"] == 2
    found = _parameters(await client.get("CodeSystem/infant-feeding/$lookup?code=partial"))
    assert found["display"] == ["Partial breastfeeding"]
    subsumed = _parameters(await client.get(
        f"CodeSystem/$subsumes?system={FEEDING}&codeA=exclusive&codeB=breast"))
    assert subsumed["outcome"] == ["subsumed-by"]
    member = _parameters(await client.get(
        f"ValueSet/breastfeeding/$validate-code?system={FEEDING}&code=partial"))
    assert member["result"] == [False]


async def test_expand_a_posted_value_set_with_filters(client):
    """compose.include with filters ``in`` and ``=`` (on a concept property), and an
    exclude with a ``concept`` list."""
    value_set = {"resourceType": "ValueSet", "status": "draft", "compose": {
        "include": [
            {"system": ACT_CODE, "filter": [{"property": "concept", "op": "in",
                                             "value": "AMB,EMER,IMP,NOPE"}]},
            {"system": CVX, "filter": [{"property": "status", "op": "=", "value": "active"}]}],
        "exclude": [{"system": CVX, "concept": [{"code": "20"}]}]}}
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "valueSet", "resource": value_set}, {"name": "count", "valueInteger": 0}]}
    response = await client.post("ValueSet/$expand", json=body, headers=FHIR_JSON)
    assert response.status_code == 200, response.text
    cvx = json.loads((CVX_FILE).read_text())
    active = {c["code"] for c in cvx["concept"]
              if {"code": "status", "valueCode": "active"} in c["property"]}
    assert "20" in active
    assert response.json()["expansion"]["total"] == 3 + len(active) - 1
    body["parameter"][1] = {"name": "filter", "valueString": "AMBUL"}
    codes = [c["code"] for c in (await client.post("ValueSet/$expand", json=body,
                                                   headers=FHIR_JSON)).json()["expansion"]
             ["contains"]]
    assert codes == ["AMB"]


async def test_translate_with_the_r4_concept_maps(client):
    found = _parameters(await client.get(
        "ConceptMap/$translate?system=http://hl7.org/fhir/administrative-gender&code=female"
        "&targetsystem=http://terminology.hl7.org/CodeSystem/v3-AdministrativeGender"))
    assert found["result"] == [True]
    [match] = found["match"]
    parts = {p["name"]: next(v for k, v in p.items() if k.startswith("value")) for p in match}
    assert parts["concept"]["code"] == "F" and parts["equivalence"] == "equal"
    reverse = _parameters(await client.get(
        "ConceptMap/$translate?system=http://terminology.hl7.org/CodeSystem/v2-0001&code=F"
        "&reverse=true"))
    assert reverse["result"] == [True]
    none = _parameters(await client.get(
        "ConceptMap/$translate?system=http://hl7.org/fhir/administrative-gender&code=nope"))
    assert none["result"] == [False]


async def test_translate_with_a_stored_concept_map(client):
    concept_map = {"resourceType": "ConceptMap", "id": "feeding-to-snomed", "status": "draft",
                   "url": "https://example.org/ConceptMap/feeding-to-snomed",
                   "group": [{"source": FEEDING, "target": SNOMED, "element": [
                       {"code": "exclusive", "target": [
                           {"code": "169741004", "display": "Breast fed",
                            "equivalence": "wider"}]}]}]}
    assert (await client.put("ConceptMap/feeding-to-snomed", json=concept_map,
                             headers=FHIR_JSON)).status_code == 201
    found = _parameters(await client.get(
        f"ConceptMap/feeding-to-snomed/$translate?system={FEEDING}&code=exclusive"))
    assert found["result"] == [True]
    parts = {p["name"]: next(v for k, v in p.items() if k.startswith("value"))
             for p in found["match"][0]}
    assert parts["concept"] == {"system": SNOMED, "code": "169741004",
                                "display": "Breast fed"}
    assert parts["equivalence"] == "wider"

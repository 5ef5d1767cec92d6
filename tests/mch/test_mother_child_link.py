"""The mother-child link (profile mch-mother-of-child, docs/maternal-child.md): a RelatedPerson
for the mother on the child, named by the mother's Patient.link, found from either side with
R4's own search parameters (RelatedPerson patient/relationship, Patient link) through the
server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

MOTHER_PROFILE = "https://mch-fhir.org/fhir/StructureDefinition/mch-mother-of-child"
ROLE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
EXAMPLE = Path(__file__).parents[1] / "data" / "profiles" / "mch" / "mother-of-child-valid.json"
JSON = {"Content-Type": "application/fhir+json"}


async def _create(client, resource: dict) -> str:
    response = await client.post(resource["resourceType"], content=json.dumps(resource),
                                 headers=JSON)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _ids(bundle: dict, resource_type: str) -> set[str]:
    return {e["resource"]["id"] for e in bundle.get("entry", [])
            if e["resource"]["resourceType"] == resource_type}


async def _search(client, path: str, params: dict) -> dict:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _mother_of(child: str, code: str = "NMTH") -> dict:
    related = json.loads(EXAMPLE.read_text())
    del related["id"]
    related["patient"] = {"reference": f"Patient/{child}"}
    related["relationship"] = [{"coding": [{"system": ROLE, "code": code}]}]
    if code not in ("MTH", "NMTH", "GESTM"):
        del related["meta"]
    return related


@pytest.fixture
async def family(client) -> dict[str, str]:
    """A mother with twins, each child with a RelatedPerson for the mother (named by the
    mother's Patient.link) and one for the father; an unrelated child."""
    ids = {name: await _create(client, {"resourceType": "Patient", "gender": gender,
                                        "name": [{"family": "Okafor", "given": [name]}]})
           for name, gender in (("ada", "female"), ("twin1", "female"), ("twin2", "male"),
                                ("other", "female"))}
    for twin in ("twin1", "twin2"):
        ids[f"{twin}-mother"] = await _create(client, _mother_of(ids[twin]))
        ids[f"{twin}-father"] = await _create(client, _mother_of(ids[twin], "FTH"))
    mother = (await client.get(f"Patient/{ids['ada']}")).json()
    mother["link"] = [{"other": {"reference": f"RelatedPerson/{ids[f'{twin}-mother']}"},
                       "type": "seealso"} for twin in ("twin1", "twin2")]
    response = await client.put(f"Patient/{ids['ada']}", content=json.dumps(mother),
                                headers=JSON)
    assert response.status_code == 200, response.text
    return ids


async def test_mother_of_a_child(client, family):
    """From the child: her mother's RelatedPerson, and the mother's Patient by chaining
    Patient.link to RelatedPerson.patient."""
    related = await _search(client, "RelatedPerson", {
        "patient": f"Patient/{family['twin1']}", "relationship": f"{ROLE}|NMTH"})
    assert _ids(related, "RelatedPerson") == {family["twin1-mother"]}
    mothers = await _search(client, "Patient",
                            {"link:RelatedPerson.patient": f"Patient/{family['twin1']}"})
    assert _ids(mothers, "Patient") == {family["ada"]}
    assert _ids(await _search(client, "Patient", {
        "link:RelatedPerson.patient": f"Patient/{family['other']}"}), "Patient") == set()


async def test_children_of_a_mother(client, family):
    """From the mother: the RelatedPersons her Patient.link names (reverse chaining), with
    the children they belong to (_include)."""
    bundle = await _search(client, "RelatedPerson", {
        "_has:Patient:link:_id": family["ada"], "_include": "RelatedPerson:patient"})
    assert _ids(bundle, "RelatedPerson") == {family["twin1-mother"], family["twin2-mother"]}
    assert _ids(bundle, "Patient") == {family["twin1"], family["twin2"]}


async def test_a_mother_link_that_names_another_relationship_is_refused(client, family):
    related = _mother_of(family["other"], "FTH")
    related["meta"] = {"profile": [MOTHER_PROFILE]}
    response = await client.post("RelatedPerson", content=json.dumps(related), headers=JSON)
    assert response.status_code == 400
    assert "mch-mother-1" in response.text

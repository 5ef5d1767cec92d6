"""The same searches through ``fhirpy`` (a FHIR client from PyPI) against a running server.

One Synthea child is loaded into the session's live server; results are compared with the
same oracle as the in-process tests.
"""

from __future__ import annotations

import httpx
import pytest
from fhirpy import AsyncFHIRClient

from .oracle import concept_has, fold, instant_range
from .synthea import BUNDLES, bundle_resources

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
async def luigi(live_server):
    path = next(BUNDLES.glob("pediatric/Luigi*.json"))
    resources = bundle_resources(path)
    async with httpx.AsyncClient(base_url=live_server.base + "/", timeout=60) as http:
        for resource in resources:
            response = await http.put(f"{resource['resourceType']}/{resource['id']}",
                                      json=resource)
            assert response.status_code in (200, 201), response.text[:300]
    return resources


@pytest.fixture
def fhir(live_server) -> AsyncFHIRClient:
    return AsyncFHIRClient(live_server.base, extra_headers={"Accept": "application/fhir+json"})


def _of(resources, resource_type):
    return [r for r in resources if r["resourceType"] == resource_type]


async def test_search_parameters_through_fhirpy(fhir, luigi) -> None:
    patient = _of(luigi, "Patient")[0]
    found = await fhir.resources("Patient").search(name="wieg").fetch()
    assert [p.id for p in found] == [patient["id"]]
    found = await fhir.resources("Patient").search(birthdate__ge="2020-10").fetch()
    assert [p.id for p in found] == [patient["id"]]
    heights = [o for o in _of(luigi, "Observation") if concept_has(o["code"], "8302-2")]
    found = await fhir.resources("Observation").search(
        subject__Patient__name="luigi", code="http://loinc.org|8302-2").fetch_all()
    assert sorted(o.id for o in found) == sorted(o["id"] for o in heights)
    assert await fhir.resources("Observation").search(code="8302-2").count() == len(heights)
    found = await fhir.resources("Observation").search(
        **{"value-quantity": "gt60|http://unitsofmeasure.org|cm"}).fetch_all()
    assert sorted(o.id for o in found) == sorted(
        o["id"] for o in heights if o["valueQuantity"]["value"] > 60)


async def test_paging_sorting_and_includes_through_fhirpy(fhir, luigi) -> None:
    observations = _of(luigi, "Observation")
    found = await fhir.resources("Observation").sort("-date").limit(7).fetch_all()
    subject = "Patient/" + _of(luigi, "Patient")[0]["id"]
    ours = [o for o in found if o["subject"]["reference"] == subject]
    expected = sorted(sorted(observations, key=lambda o: o["id"]),
                      key=lambda o: instant_range(o["effectiveDateTime"])[0], reverse=True)
    assert [o.id for o in ours] == [o["id"] for o in expected]
    bundle = await fhir.resources("Observation").search(code="8302-2").include(
        "Observation", "subject").limit(100).fetch_raw()
    modes = {(e["resource"]["resourceType"], e["search"]["mode"]) for e in bundle.entry}
    assert modes == {("Observation", "match"), ("Patient", "include")}
    patients = await fhir.resources("Patient").has("Observation", "patient", code="8302-2"
                                                   ).fetch_all()
    assert _of(luigi, "Patient")[0]["id"] in [p.id for p in patients]
    organizations = await fhir.resources("Organization").search(
        name=fold(_of(luigi, "Organization")[0]["name"])[:5]).fetch()
    assert organizations

"""Search errors (https://hl7.org/fhir/R4/search.html#errors): unknown parameters and
modifiers are rejected naming the valid ones unless handling is lenient; malformed and
hostile values are a 400 (or simply match nothing), never a 500."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import httpx
from pymongo import AsyncMongoClient

from fhir_server.config import Settings
from fhir_server.rest.app import create_app

from .conftest import BASE

PATIENT = {"resourceType": "Patient", "id": "p1", "name": [{"family": "Müller",
                                                            "given": ["Zoë"]}],
           "gender": "female", "birthDate": "2001-02-03"}


def _outcome(response: httpx.Response) -> str:
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    return " ".join(i.get("diagnostics", "") for i in body["issue"])


async def test_unknown_parameter_names_it_and_lists_valid_ones(client) -> None:
    response = await client.get("Patient", params={"nmae": "x"})
    assert response.status_code == 400
    text = _outcome(response)
    assert "'nmae'" in text and "birthdate" in text and "family" in text
    assert response.json()["issue"][0]["expression"] == ["nmae"]


async def test_unknown_modifier_lists_valid_modifiers(client) -> None:
    response = await client.get("Patient", params={"name:sounds-like": "x"})
    assert response.status_code == 400
    text = _outcome(response)
    assert ":sounds-like" in text and "exact" in text and "contains" in text
    response = await client.get("Observation", params={"subject:Medication": "1"})
    assert response.status_code == 400


async def test_lenient_handling_ignores_and_drops_from_self_link(client) -> None:
    await client.put("Patient/p1", json=PATIENT)
    response = await client.get("Patient", params={"nmae": "x", "gender": "female"},
                                headers={"Prefer": "handling=lenient"})
    assert response.status_code == 200
    bundle = response.json()
    assert [e["resource"]["id"] for e in bundle["entry"]] == ["p1"]
    query = dict(parse_qsl(urlsplit(bundle["link"][0]["url"]).query))
    assert query == {"gender": "female"}
    strict = await client.get("Patient", params={"nmae": "x"},
                              headers={"Prefer": "handling=strict"})
    assert strict.status_code == 400


async def test_lenient_server_setting(mongo_client: AsyncMongoClient, mongodb_uri: str,
                                      database_name: str) -> None:
    settings = Settings(database=database_name, mongodb_uri=mongodb_uri, base_url=BASE,
                        lenient_search=True)
    app = create_app(settings, mongo_client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE + "/") as http:
            assert (await http.get("Patient", params={"nmae": "x"})).status_code == 200
            strict = await http.get("Patient", params={"nmae": "x"},
                                    headers={"Prefer": "handling=strict"})
            assert strict.status_code == 400
    await mongo_client.drop_database(database_name)


MALFORMED = [
    ("Patient", {"birthdate": "2020-13-01"}),
    ("Patient", {"birthdate": "yesterday"}),
    ("Patient", {"birthdate": "ge"}),
    ("Patient", {"birthdate": "2020-02-30"}),
    ("Patient", {"birthdate": "xx2020"}),
    ("Observation", {"value-quantity": "abc"}),
    ("Observation", {"value-quantity": "5|kg"}),
    ("Observation", {"value-quantity": "gt5.4.1"}),
    ("Observation", {"value-quantity": "NaN"}),
    ("RiskAssessment", {"probability": "1e99999999"}),
    ("Observation", {"code": "a|b|c"}),
    ("Observation", {"code-value-quantity": "http://loinc.org|8480-6"}),
    ("Observation", {"code-value-quantity": "a$b$c"}),
    ("Patient", {"identifier:of-type": "only|two"}),
    ("Patient", {"gender:in": "http://example.org/no-such-valueset"}),
    ("Patient", {"gender:missing": "maybe"}),
    ("Patient", {"_count": "-1"}),
    ("Patient", {"_count": "ten"}),
    ("Patient", {"_sort": "nosuch"}),
    ("Patient", {"_sort": "-"}),
    ("Observation", {"_sort": "code-value-quantity"}),
    ("Patient", {"_summary": "everything"}),
    ("Patient", {"_total": "some"}),
    ("Patient", {"_cursor": "not-a-cursor"}),
    ("Patient", {"_cursor": "eyJrIjpbeyIkbmUiOjF9XSwidCI6IlBhdGllbnQiLCJiIjpmYWxzZSwicyI6Il9p"
                            "ZCJ9"}),
    ("Patient", {"_include": "Patient"}),
    ("Patient", {"_include": "Nope:organization"}),
    ("Patient", {"_include": "Patient:gender"}),
    ("Patient", {"_include:deep": "Patient:organization"}),
    ("Patient", {"_revinclude": "Observation:subject:Medication"}),
    ("Patient", {"_has:Nope:subject:code": "1"}),
    ("Patient", {"_has:Observation:code:code": "1"}),
    ("Patient", {"_has:Observation:subject": "1"}),
    ("Patient", {"_contained": "true"}),
    ("Patient", {"_containedType": "contained"}),
    ("Observation", {"subject.nosuch": "1"}),
    ("Observation", {"code.text": "1"}),
    ("Observation", {"subject:Patient.organization.partof.partof.partof.name": "x"}),
    ("Patient", {"name": "x" * 2000}),
    ("", {"_type": "Patient,NotAType"}),
    ("Patient", {"$where": "1"}),
    ("Patient", {"_id[$ne]": "1"}),
]
HOSTILE = ['{"$ne": null}', "$ne", ".*", "^", "(", "[a-", "\\", "\\\\,\\$\\|", "%00", "\x00",
           "' OR 1=1 --", "<script>", "a" * 900, "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "", ",,,"]


async def test_malformed_values_are_400(client) -> None:
    for path, params in MALFORMED:
        response = await client.get(path, params=params)
        assert response.status_code == 400, (params, response.text[:300])
        assert _outcome(response)


async def test_hostile_strings_match_nothing_and_never_fail(client) -> None:
    await client.put("Patient/p1", json=PATIENT)
    names = ("name", "name:contains", "name:exact", "identifier", "gender:not", "_id",
             "general-practitioner", "organization:identifier", "_tag:text", "birthdate",
             "address:contains", "_has:Observation:subject:code", "link:Patient.name")
    for value in HOSTILE:
        for name in names:
            response = await client.get("Patient", params={name: value})
            assert response.status_code in (200, 400), (name, value, response.text[:300])
            if response.status_code == 200 and value.strip(",") and name != "gender:not":
                assert "entry" not in response.json(), (name, value)


async def test_accents_and_case_are_folded(client) -> None:
    await client.put("Patient/p1", json=PATIENT)
    for query in ({"family": "muller"}, {"family": "MÜL"}, {"given": "zoe"},
                  {"name:contains": "ULLE"}, {"family:exact": "Müller"}):
        bundle = (await client.get("Patient", params=query)).json()
        assert [e["resource"]["id"] for e in bundle.get("entry", [])] == ["p1"], query
    bundle = (await client.get("Patient", params={"family:exact": "muller"})).json()
    assert "entry" not in bundle

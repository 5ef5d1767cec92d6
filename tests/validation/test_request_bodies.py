"""Request bodies that are not valid Unicode or hold numbers beyond 64 bits
(fhir_server/json_io.py): strings must be Unicode (https://hl7.org/fhir/R4/json.html), so a
lone UTF-16 surrogate escape is refused with 400 when the body is parsed, before
validation or the database see it; writing JSON never fails on content."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from bson.decimal128 import Decimal128

from fhir_server.errors import InvalidRequest, InvalidResource
from fhir_server.json_io import dump_json, from_bson, parse_json, to_bson

FHIR_JSON = {"Content-Type": "application/fhir+json"}
LONE = ["\\ud800", "\\udfff", "\\uDC00\\uD800", "a\\ud83db"]


@pytest.mark.parametrize("escape", LONE)
def test_a_lone_surrogate_escape_is_refused(escape):
    with pytest.raises(InvalidRequest, match="not valid Unicode"):
        parse_json(f'{{"resourceType": "Patient", "name": [{{"text": "{escape}"}}]}}'.encode())


def test_a_lone_surrogate_in_a_property_name_is_refused():
    with pytest.raises(InvalidRequest, match="not valid Unicode"):
        parse_json(b'{"resourceType": "Patient", "\\ud800": 1}')


def test_a_surrogate_in_a_python_string_body_is_refused():
    with pytest.raises(InvalidRequest, match="not valid Unicode"):
        parse_json('{"resourceType": "Patient", "gender": "\ud800"}')


def test_a_surrogate_pair_and_an_escaped_backslash_are_fine():
    parsed = parse_json(b'{"a": "\\ud83d\\ude00", "b": "\\\\ud800"}')
    assert parsed == {"a": "\U0001f600", "b": "\\ud800"}


def test_dump_json_never_fails_on_a_lone_surrogate_or_a_huge_integer():
    body = dump_json({"diagnostics": "code '\ud800' unknown", "n": 2**70, "d": Decimal("1.50")})
    assert json.loads(body) == {"diagnostics": "code '\ufffd' unknown", "n": 2**70, "d": 1.5}
    assert b'"d":1.50' in body


def test_an_integer_beyond_64_bits_is_stored_as_decimal128_and_written_back_as_sent():
    stored = to_bson({"value": 18446744073709551616})
    assert stored == {"value": Decimal128("18446744073709551616")}
    assert dump_json(from_bson(stored)) == b'{"value":18446744073709551616}'


def test_an_integer_beyond_34_digits_is_refused():
    with pytest.raises(InvalidResource, match="more than 34 digits"):
        to_bson({"value": 10**34})


# --- through the REST API -------------------------------------------------------------

PATIENT_WITH_LONE_SURROGATE = b'{"resourceType": "Patient", "name": [{"text": "Ada\\ud800"}]}'


async def _count(db, resource_type):
    return (await db[resource_type].count_documents({}),
            await db["history"].count_documents({}))


async def test_create_with_a_lone_surrogate_is_a_400_and_stores_nothing(client, db):
    response = await client.post("Patient", content=PATIENT_WITH_LONE_SURROGATE,
                                 headers=FHIR_JSON)
    assert response.status_code == 400
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert "not valid Unicode" in outcome["issue"][0]["diagnostics"]
    assert await _count(db, "Patient") == (0, 0)


async def test_a_lone_surrogate_in_a_bound_code_is_a_400_not_a_500(client, db):
    """The element fails validation too; the error is the parse error, never a crash while
    writing an error message that quotes the string."""
    body = b'{"resourceType": "Patient", "gender": "\\ud800"}'
    response = await client.put("Patient/p1", content=body, headers=FHIR_JSON)
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"
    assert await _count(db, "Patient") == (0, 0)


async def test_a_lone_surrogate_in_a_transaction_entry_is_a_400(client, db):
    body = (b'{"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": '
            + PATIENT_WITH_LONE_SURROGATE + b', "request": {"method": "POST", "url": "Patient"}}]}')
    response = await client.post("", content=body, headers=FHIR_JSON)
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"
    assert await _count(db, "Patient") == (0, 0)


async def test_a_lone_surrogate_in_a_patch_is_a_400(client, db):
    created = await client.put("Patient/p2", json={"resourceType": "Patient", "id": "p2"},
                               headers=FHIR_JSON)
    assert created.status_code == 201
    body = b'[{"op": "add", "path": "/gender", "value": "\\ud800"}]'
    response = await client.patch("Patient/p2", content=body,
                                  headers={"Content-Type": "application/json-patch+json"})
    assert response.status_code == 400
    assert (await client.get("Patient/p2")).json()["meta"]["versionId"] == "1"


async def test_an_integer_beyond_64_bits_in_contained_is_a_400(client, db):
    body = (b'{"resourceType": "Patient", "contained": [{"resourceType": "Patient", "id": "t",'
            b' "multipleBirthInteger": 18446744073709551616}],'
            b' "link": [{"other": {"reference": "#t"}, "type": "seealso"}]}')
    response = await client.post("Patient", content=body, headers=FHIR_JSON)
    assert response.status_code == 400
    [issue] = response.json()["issue"]
    assert issue["expression"] == ["Patient.contained[0].multipleBirthInteger"]
    assert await _count(db, "Patient") == (0, 0)


async def test_a_decimal_beyond_64_bits_is_stored_and_read_back_as_sent(client):
    body = (b'{"resourceType": "Observation", "status": "final", "code": {"text": "count"},'
            b' "valueQuantity": {"value": 18446744073709551616000}}')
    response = await client.post("Observation", content=body, headers=FHIR_JSON)
    assert response.status_code == 201, response.text
    read = await client.get(response.headers["Location"].split("/fhir/", 1)[1])
    assert b'"value":18446744073709551616000' in read.content


async def test_coding_system_as_a_list_on_a_bound_element_is_a_400(client, db):
    allergy = {"resourceType": "AllergyIntolerance", "patient": {"reference": "Patient/1"},
               "clinicalStatus": {"coding": [{"system": ["x"], "code": "active"}]}}
    response = await client.post("AllergyIntolerance", json=allergy, headers=FHIR_JSON)
    assert response.status_code == 400
    [issue] = response.json()["issue"]
    assert issue["expression"] == ["AllergyIntolerance.clinicalStatus.coding[0].system"]
    assert await _count(db, "AllergyIntolerance") == (0, 0)

"""The patient picker reads Patient through the access policy of the signed-in user
(issue 12): a patient whose Consent denies that practitioner's organization is not
offered, and choosing that patient's id anyway is refused exactly like an unknown id."""

from __future__ import annotations

import pytest

from ..consent.data import REFERENCE_DATA, actor, consent
from .browser import Form, sign_in_and_allow
from .conftest import (
    authorize_url,
    bearer,
    code_for,
    exchange,
    patient,
    pkce_pair,
    put,
    query_of,
)

# Patient mum's Consent: opt out for hospital B (where the doctor works); the midwife
# works at clinic A.
DENY_HOSPITAL_B = consent("c-mum", {"actor": [actor("Organization/hospital-b")]},
                          policy="OPTOUT", patient="mum")


@pytest.fixture
async def clinic(auth, repository, app_client):
    for resource in [*REFERENCE_DATA, patient("mum", "Mother"), patient("kid", "Baby"),
                     patient("other", "Other"), DENY_HOSPITAL_B]:
        await put(repository, resource)
    await auth.registry.add_user("doctor", "doctor-password", "Practitioner/doctor")
    await auth.registry.add_user("midwife", "midwife-password", "Practitioner/midwife")


async def offered(http, username: str, password: str) -> list[str]:
    """The patient ids the picker offers to this user."""
    page = await http.get(authorize_url("app", pkce_pair()[1]))
    login = Form(page.text)
    signed_in = await http.post(login.action, data={**login.hidden, "username": username,
                                                    "password": password})
    assert signed_in.status_code == 303, signed_in.text
    picker = await http.get(signed_in.headers["location"])
    assert picker.status_code == 200 and 'name="patient"' in picker.text
    return Form(picker.text).options


async def test_the_picker_hides_a_patient_whose_consent_denies_the_user(http, clinic):
    assert await offered(http, "doctor", "doctor-password") == ["kid", "other"]
    http.cookies.clear()  # sign out
    assert await offered(http, "midwife", "midwife-password") == ["kid", "mum", "other"]


async def test_a_denied_patient_is_refused_like_an_unknown_one(http, clinic):
    answers = {}
    for chosen in ("mum", "nobody"):
        page = await sign_in_and_allow(http, authorize_url("app", pkce_pair()[1]), "doctor",
                                       "doctor-password", patient=chosen)
        assert page.status_code == 200 and "location" not in page.headers
        answers[chosen] = page.text.replace(Form(page.text).hidden["request"], "").replace(
            Form(page.text).hidden["csrf"], "")
    assert "There is no such patient." in answers["mum"]
    assert answers["mum"] == answers["nobody"]


async def test_a_visible_patient_is_granted(http, clinic):
    code, verifier = await code_for(http, "doctor", "doctor-password", patient="kid")
    body = (await exchange(http, code, verifier)).json()
    assert body["patient"] == "kid"
    assert (await http.get("/fhir/Patient/kid",
                           headers=bearer(body["access_token"]))).status_code == 200
    http.cookies.clear()  # sign out
    redirect = await sign_in_and_allow(http, authorize_url("app", pkce_pair()[1]), "midwife",
                                       "midwife-password", patient="mum")
    assert redirect.status_code == 303
    assert "code" in query_of(redirect.headers["location"])


async def test_a_parent_acts_for_their_child_and_only_for_them(http, clinic, repository,
                                                               auth):
    """A RelatedPerson user (a parent) is given the patient the RelatedPerson is for,
    without a picker; their ``user/`` scopes reach that record and nothing else."""
    await put(repository, {"resourceType": "RelatedPerson", "id": "mum-of-kid",
                           "active": True, "patient": {"reference": "Patient/kid"}})
    await auth.registry.add_user("mum", "mum-password", "RelatedPerson/mum-of-kid")
    code, verifier = await code_for(http, "mum", "mum-password",
                                    scope="openid fhirUser user/Patient.rs")
    body = (await exchange(http, code, verifier)).json()
    assert body["patient"] == "kid"
    token = bearer(body["access_token"])
    assert (await http.get("/fhir/Patient/kid", headers=token)).status_code == 200
    assert (await http.get("/fhir/Patient/other", headers=token)).status_code == 404
    found = (await http.get("/fhir/Patient", headers=token)).json()
    assert [e["resource"]["id"] for e in found.get("entry", [])] == ["kid"]


async def test_an_inactive_relatedperson_acts_for_nobody(http, clinic, repository, auth):
    await put(repository, {"resourceType": "RelatedPerson", "id": "former",
                           "active": False, "patient": {"reference": "Patient/kid"}})
    await auth.registry.add_user("former", "former-password", "RelatedPerson/former")
    redirect = await sign_in_and_allow(http, authorize_url("app", pkce_pair()[1],
                                                           "openid fhirUser user/Patient.rs"),
                                       "former", "former-password")
    assert redirect.status_code == 303
    assert query_of(redirect.headers["location"])["error"] == "access_denied"

"""SMART App Launch: authorization code flow with PKCE, standalone and EHR launch, the
login / consent / patient-picker pages, id_token, refresh tokens, introspection,
revocation (https://hl7.org/fhir/smart-app-launch/app-launch.html)."""

from __future__ import annotations

from joserfc import jwt
from joserfc.jwk import KeySet

from .browser import sign_in_and_allow
from .conftest import (
    BASE,
    ROOT,
    authorize_url,
    bearer,
    code_for,
    exchange,
    pkce_pair,
    query_of,
    register,
)


async def test_standalone_patient_launch(http, auth, people, app_client):
    code, verifier = await code_for(http)
    response = await exchange(http, code, verifier)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["patient"] == "p1"
    assert body["scope"] == "patient/*.rs launch/patient openid fhirUser offline_access"
    assert body["refresh_token"]
    jwks = KeySet.import_key_set((await http.get("/auth/jwks")).json())
    id_token = jwt.decode(body["id_token"], jwks, algorithms=["RS256"])
    assert id_token.header["alg"] == "RS256"
    claims = id_token.claims
    assert claims["iss"] == ROOT and claims["aud"] == "app" and claims["sub"] == "alice"
    assert claims["exp"] > claims["iat"]
    assert claims["fhirUser"] == f"{BASE}/Patient/p1"
    me = await http.get(claims["fhirUser"].removeprefix(ROOT),
                        headers=bearer(body["access_token"]))
    assert me.status_code == 200 and me.json()["id"] == "p1"
    other = await http.get("/fhir/Patient/p2", headers=bearer(body["access_token"]))
    assert other.status_code == 404


async def test_wrong_pkce_verifier(http, people, app_client):
    code, verifier = await code_for(http)
    wrong = await exchange(http, code, pkce_pair()[0])
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    missing_code, _ = await code_for(http)
    missing = await exchange(http, missing_code, None)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_grant"


async def test_reused_code_is_refused_and_revokes_its_tokens(http, people, app_client):
    code, verifier = await code_for(http)
    first = await exchange(http, code, verifier)
    assert first.status_code == 200
    token = first.json()["access_token"]
    assert (await http.get("/fhir/Patient/p1", headers=bearer(token))).status_code == 200
    again = await exchange(http, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    revoked = await http.get("/fhir/Patient/p1", headers=bearer(token))
    assert revoked.status_code == 401
    assert "invalid_token" in revoked.headers["www-authenticate"]
    refresh = await http.post("/auth/token", data={
        "grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"],
        "client_id": "app"})
    assert refresh.status_code == 400


async def test_wrong_aud_is_sent_back_as_an_error(http, people, app_client):
    _, challenge = pkce_pair()
    url = authorize_url("app", challenge, aud="https://other.example.org/fhir")
    response = await http.get(url)
    assert response.status_code == 303
    reply = query_of(response.headers["location"])
    assert reply["error"] == "invalid_request" and "aud" in reply["error_description"]
    assert reply["state"] == "st-123"


async def test_public_client_must_use_pkce_s256(http, people, app_client):
    no_pkce = await http.get(authorize_url("app", None))
    assert query_of(no_pkce.headers["location"])["error"] == "invalid_request"
    plain = await http.get(authorize_url("app", None, code_challenge="x" * 43,
                                         code_challenge_method="plain"))
    assert "S256" in query_of(plain.headers["location"])["error_description"]


async def test_legacy_confidential_client_without_pkce(http, auth, people):
    await register(auth, "legacy", "confidential-symmetric", "patient/*.read",
                   secret="legacy-secret", pkce=False)
    redirect = await sign_in_and_allow(
        http, authorize_url("legacy", None, "launch/patient patient/*.read"),
        "alice", "alice-password")
    code = query_of(redirect.headers["location"])["code"]
    unauthenticated = await exchange(http, code, None, client_id="legacy")
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"] == "invalid_client"
    redirect = await sign_in_and_allow(
        http, authorize_url("legacy", None, "launch/patient patient/*.read"),
        "alice", "alice-password")
    code = query_of(redirect.headers["location"])["code"]
    response = await exchange(http, code, None, client_id="legacy",
                              auth=("legacy", "legacy-secret"))
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "patient/*.read launch/patient"


async def test_unknown_client_and_redirect_are_shown_not_redirected(http, people,
                                                                    app_client):
    unknown = await http.get(authorize_url("nobody", pkce_pair()[1]))
    assert unknown.status_code == 400 and "not registered" in unknown.text
    url = authorize_url("app", pkce_pair()[1]).replace(
        "app.example.org", "evil.example.org")
    evil = await http.get(url)
    assert evil.status_code == 400 and "location" not in evil.headers


async def test_wrong_password(http, people, app_client):
    response = await sign_in_and_allow(http, authorize_url("app", pkce_pair()[1]), "alice",
                                       "not-her-password")
    assert response.status_code == 401 and "Wrong username or password" in response.text


async def test_practitioner_picks_a_patient(http, people, app_client):
    code, verifier = await code_for(http, "drwho", "doctor-password", patient="p2")
    body = (await exchange(http, code, verifier)).json()
    assert body["patient"] == "p2"
    token = body["access_token"]
    assert (await http.get("/fhir/Patient/p2", headers=bearer(token))).status_code == 200
    assert (await http.get("/fhir/Patient/p1", headers=bearer(token))).status_code == 404


async def test_person_grants_less_than_asked(http, people, app_client):
    code, verifier = await code_for(http, keep_scopes={"patient/*.rs", "launch/patient"})
    body = (await exchange(http, code, verifier)).json()
    assert body["scope"] == "patient/*.rs launch/patient"
    assert "refresh_token" not in body and "id_token" not in body


async def test_person_denies(http, people, app_client):
    verifier, challenge = pkce_pair()
    response = await sign_in_and_allow(http, authorize_url("app", challenge), "alice",
                                       "alice-password", decision="deny")
    assert query_of(response.headers["location"])["error"] == "access_denied"


async def test_refresh_rotates_and_can_narrow(http, people, app_client):
    code, verifier = await code_for(http)
    first = (await exchange(http, code, verifier)).json()
    refreshed = await http.post("/auth/token", data={
        "grant_type": "refresh_token", "refresh_token": first["refresh_token"],
        "client_id": "app", "scope": "patient/Patient.rs offline_access"})
    assert refreshed.status_code == 200, refreshed.text
    body = refreshed.json()
    assert body["scope"] == "patient/Patient.rs offline_access"
    assert body["patient"] == "p1" and body["refresh_token"] != first["refresh_token"]
    wider = await http.post("/auth/token", data={
        "grant_type": "refresh_token", "refresh_token": body["refresh_token"],
        "client_id": "app", "scope": "patient/*.rs"})
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    # issue 12: the old token coming back revokes its successors (RFC 9700 4.14.2)
    reuse = await http.post("/auth/token", data={
        "grant_type": "refresh_token", "refresh_token": first["refresh_token"],
        "client_id": "app"})
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    successor = await http.post("/auth/token", data={
        "grant_type": "refresh_token", "refresh_token": body["refresh_token"],
        "client_id": "app"})
    assert successor.status_code == 400 and successor.json()["error"] == "invalid_grant"


async def test_introspection_and_revocation(http, auth, people, app_client):
    await register(auth, "resource-server", "confidential-symmetric", "system/*.rs",
                   secret="rs-secret", resource_server=True)
    code, verifier = await code_for(http)
    body = (await exchange(http, code, verifier)).json()
    token = body["access_token"]
    seen = await http.post("/auth/introspect", data={"token": token},
                           auth=("resource-server", "rs-secret"))
    assert seen.status_code == 200
    info = seen.json()
    assert info["active"] is True and info["client_id"] == "app"
    assert info["patient"] == "p1" and info["scope"] == body["scope"]
    refresh_info = (await http.post("/auth/introspect", data={"token": body["refresh_token"]},
                                    headers=bearer(token))).json()
    assert refresh_info["active"] is True
    anonymous = await http.post("/auth/introspect", data={"token": token})
    assert anonymous.status_code == 401
    revoked = await http.post("/auth/revoke", data={"token": token, "client_id": "app"})
    assert revoked.status_code == 200
    assert (await http.post("/auth/introspect", data={"token": token},
                            auth=("resource-server", "rs-secret"))).json() == {"active": False}
    assert (await http.get("/fhir/Patient/p1", headers=bearer(token))).status_code == 401


async def test_ehr_launch_brings_the_patient(http, auth, people, app_client):
    launch = await auth.store.put_launch({"patient": "p2", "encounter": None}, 300)
    verifier, challenge = pkce_pair()
    url = authorize_url("app", challenge, "launch patient/*.rs", launch=launch)
    redirect = await sign_in_and_allow(http, url, "drwho", "doctor-password")
    code = query_of(redirect.headers["location"])["code"]
    body = (await exchange(http, code, verifier)).json()
    assert body["patient"] == "p2" and body["scope"] == "patient/*.rs launch"
    bad = await http.get(authorize_url("app", challenge, "launch patient/*.rs",
                                       launch="made-up"))
    assert query_of(bad.headers["location"])["error"] == "invalid_request"


async def test_authorize_post_and_existing_session(http, people, app_client):
    code, verifier = await code_for(http)
    assert (await exchange(http, code, verifier)).status_code == 200
    verifier, challenge = pkce_pair()
    params = dict(query_of(authorize_url("app", challenge)))
    page = await http.post("/auth/authorize", data=params)
    assert page.status_code == 200
    assert 'name="password"' not in page.text and "Growth chart" in page.text
    # OpenID Connect prompt=login: sign in afresh although the session is still there
    again = await http.get(authorize_url("app", challenge, prompt="login"))
    assert again.status_code == 200 and 'name="password"' in again.text


async def test_password_guessing_is_slowed_down(http, people, app_client):
    url = authorize_url("app", pkce_pair()[1])
    for _ in range(5):
        response = await sign_in_and_allow(http, url, "alice", "guess")
        assert response.status_code == 401
    blocked = await sign_in_and_allow(http, url, "alice", "alice-password")
    assert blocked.status_code == 429 and "Too many" in blocked.text
    other = await sign_in_and_allow(http, url, "drwho", "doctor-password", patient="p1")
    assert other.status_code == 303

"""Access tokens from a configured external OpenID Connect issuer (JWKS by URL), with the
patient and fhirUser taken from configurable claims."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from fhir_server.rest.app import create_app
from fhir_server.storage import SystemWriter

from .conftest import BASE, ROOT, bearer, observation, patient, put
from .test_backend_services import _JwksServer

ISSUER = "https://login.example.org/realms/mch"


@pytest.fixture
async def idp_http(monkeypatch, smart_settings, mongo_client):
    key = RSAKey.generate_key(2048, parameters={"alg": "RS256"}, auto_kid=True)
    server = _JwksServer({"keys": [key.as_dict(private=False)]})
    monkeypatch.setenv("FHIR_AUTH_EXTERNAL_ISSUER", ISSUER)
    monkeypatch.setenv("FHIR_AUTH_EXTERNAL_JWKS_URL", server.url)
    monkeypatch.setenv("FHIR_AUTH_EXTERNAL_PATIENT_CLAIM", "mch_patient")
    monkeypatch.setenv("FHIR_AUTH_EXTERNAL_SCOPE_CLAIM", "scp")
    application = create_app(smart_settings, mongo_client)
    try:
        async with application.router.lifespan_context(application):
            repository = SystemWriter(application.state.services.storage.resources)
            for pid in ("p1", "p2"):
                await put(repository, patient(pid))
                await put(repository, observation(f"o-{pid}", pid))
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url=ROOT) as http:
                yield http, key
    finally:
        server.close()
        await mongo_client.drop_database(smart_settings.database)


def external_token(key, **claims) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": BASE, "sub": "kc-user-1", "azp": "portal",
            "exp": now + 300, "iat": now, "jti": uuid.uuid4().hex,
            "scp": ["patient/*.rs"], "mch_patient": "Patient/p1", **claims}
    return jwt.encode({"alg": "RS256", "kid": key.kid}, body, key)


async def test_external_patient_token(idp_http):
    http, key = idp_http
    token = external_token(key)
    assert (await http.get("/fhir/Observation/o-p1", headers=bearer(token))).status_code == 200
    assert (await http.get("/fhir/Observation/o-p2", headers=bearer(token))).status_code == 404


async def test_external_tokens_are_checked(idp_http):
    http, key = idp_http
    other_key = RSAKey.generate_key(2048, parameters={"alg": "RS256"}, auto_kid=True)
    for token in (external_token(key, aud="https://other.example/fhir"),
                  external_token(key, exp=int(time.time()) - 600),
                  jwt.encode({"alg": "RS256", "kid": key.kid},
                             {"iss": ISSUER, "aud": BASE, "exp": int(time.time()) + 60},
                             other_key)):
        response = await http.get("/fhir/Observation/o-p1", headers=bearer(token))
        assert response.status_code == 401, token
    no_scope = external_token(key, scp=[])
    assert (await http.get("/fhir/Observation/o-p1", headers=bearer(no_scope))).status_code == 403

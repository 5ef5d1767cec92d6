"""Black box: the real server (``fhir-server serve --auth smart``) with SMART's Python
client (PyPI ``fhirclient``, SMART 1.0 style: endpoints from the CapabilityStatement's
``oauth-uris`` extension, a confidential client) doing a standalone launch, and a
backend-services client with a key pair generated here."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from click.testing import CliRunner
from fhirclient import client as smart_client
from fhirclient.models.observation import Observation
from fhirclient.models.patient import Patient
from fhirclient.server import FHIRNotFoundException
from joserfc import jwt
from joserfc.jwk import ECKey

from fhir_server.cli import main

from ..conftest import LiveServer
from .browser import sign_in_and_allow

pytestmark = pytest.mark.slow
REDIRECT = "http://127.0.0.1:9/callback"


@pytest.fixture(scope="module")
def server(mongodb_uri: str) -> Iterator[LiveServer]:
    live = LiveServer(mongodb_uri, f"smart_{uuid.uuid4().hex[:8]}", args=["--auth", "smart"])
    try:
        yield live
    finally:
        live.stop()


def admin(server: LiveServer, mongodb_uri: str, *args: str) -> str:
    env = {"MONGODB_URI": mongodb_uri, "FHIR_DATABASE": server.database,
           "FHIR_PORT": str(server.port)}
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output.strip()


@pytest.fixture(scope="module")
def seeded(server: LiveServer, mongodb_uri: str, tmp_path_factory) -> dict[str, str]:
    backend_key = ECKey.generate_key("P-384", parameters={"alg": "ES384"}, auto_kid=True)
    jwks = tmp_path_factory.mktemp("keys") / "jwks.json"
    jwks.write_text(json.dumps({"keys": [backend_key.as_dict(private=False)]}))
    admin(server, mongodb_uri, "clients", "add", "--client-id", "loader", "--jwks-file", str(jwks),
          "--scope", "system/*.cruds")
    admin(server, mongodb_uri, "clients", "add", "--client-id", "growth-chart", "--secret",
          "growth-secret", "--legacy-no-pkce", "--redirect-uri", REDIRECT, "--scope",
          "launch/patient patient/*.read openid fhirUser profile offline_access")
    token = _backend_token(server, backend_key)
    headers = {"Authorization": f"Bearer {token}"}
    for resource in (
        {"resourceType": "Patient", "id": "mary", "name": [{"family": "Mwangi",
                                                             "given": ["Mary"]}]},
        {"resourceType": "Patient", "id": "other", "name": [{"family": "Other"}]},
        {"resourceType": "Observation", "id": "w1", "status": "final",
         "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
         "subject": {"reference": "Patient/mary"}},
    ):
        url = f"{server.base}/{resource['resourceType']}/{resource['id']}"
        response = httpx.put(url, json=resource, headers=headers)
        assert response.status_code in (200, 201), response.text
    # after the PUTs: users add refuses a fhirUser the server has no record of (issue 15)
    admin(server, mongodb_uri, "users", "add", "--username", "mary", "--password", "mary-password",
          "--fhir-user", "Patient/mary")
    return {"backend_token": token}


def _backend_token(server: LiveServer, key: ECKey) -> str:
    token_url = server.base.removesuffix("/fhir") + "/auth/token"
    config = httpx.get(f"{server.base}/.well-known/smart-configuration").json()
    assert config["token_endpoint"] == token_url
    now = int(time.time())
    assertion = jwt.encode({"alg": "ES384", "kid": key.kid, "typ": "JWT"},
                           {"iss": "loader", "sub": "loader", "aud": token_url,
                            "exp": now + 120, "jti": uuid.uuid4().hex}, key,
                           algorithms=["ES384"])
    response = httpx.post(token_url, data={
        "grant_type": "client_credentials", "scope": "system/*.cruds",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


async def test_fhirclient_standalone_launch(server: LiveServer, seeded):
    settings = {"app_id": "growth-chart", "app_secret": "growth-secret",
                "api_base": server.base, "redirect_uri": REDIRECT,
                "scope": "patient/*.read openid fhirUser offline_access"}
    smart = smart_client.FHIRClient(settings=settings)
    authorize_url = await asyncio.to_thread(lambda: smart.authorize_url)
    assert authorize_url.startswith(server.base.removesuffix("/fhir") + "/auth/authorize")
    async with httpx.AsyncClient() as browser:
        redirect = await sign_in_and_allow(browser, authorize_url, "mary", "mary-password")
    assert redirect.status_code == 303, redirect.text
    callback = redirect.headers["location"]
    assert callback.startswith(REDIRECT)
    await asyncio.to_thread(smart.handle_callback, callback)
    assert smart.ready and smart.patient_id == "mary"
    mary = await asyncio.to_thread(lambda: smart.patient)
    assert mary is not None and mary.name[0].family == "Mwangi"
    observation = await asyncio.to_thread(Observation.read, "w1", smart.server)
    assert observation.subject.reference == "Patient/mary"
    with pytest.raises(FHIRNotFoundException):
        await asyncio.to_thread(Patient.read, "other", smart.server)
    old_token = smart.server.auth.access_token
    assert await asyncio.to_thread(smart.reauthorize) is not None
    assert smart.server.auth.access_token != old_token
    again = await asyncio.to_thread(Patient.read, "mary", smart.server)
    assert again.id == "mary"


async def test_backend_client_against_the_live_server(server: LiveServer, seeded):
    headers = {"Authorization": f"Bearer {seeded['backend_token']}"}
    async with httpx.AsyncClient() as http:
        read = await http.get(f"{server.base}/Patient/other", headers=headers)
        assert read.status_code == 200
        anonymous = await http.get(f"{server.base}/Patient/other")
        assert anonymous.status_code == 401
        assert anonymous.headers["www-authenticate"].startswith("Bearer")

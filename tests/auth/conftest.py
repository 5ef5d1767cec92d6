"""Fixtures for SMART tests: an app with ``--auth smart`` on a fresh database."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from joserfc import jwt
from pymongo import AsyncMongoClient

from fhir_server.auth.registry import Client
from fhir_server.config import Settings
from fhir_server.rest.app import create_app
from fhir_server.storage import SystemWriter
from tests.conftest import database_of

from .browser import sign_in_and_allow

ROOT = "http://testserver"
BASE = f"{ROOT}/fhir"
TOKEN_URL = f"{ROOT}/auth/token"
REDIRECT = "https://app.example.org/callback"


@pytest.fixture
def smart_settings(database_name: str, mongodb_uri: str) -> Settings:
    return Settings(database=database_name, mongodb_uri=mongodb_uri, base_url=BASE,
                    auth="smart")


@pytest.fixture
async def smart_app(smart_settings: Settings, mongo_client: AsyncMongoClient):
    application = create_app(smart_settings, mongo_client)
    async with application.router.lifespan_context(application):
        yield application
    await mongo_client.drop_database(smart_settings.database)


@pytest.fixture
async def http(smart_app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=smart_app)
    async with httpx.AsyncClient(transport=transport, base_url=ROOT) as client:
        yield client


@pytest.fixture
def auth(smart_app):
    return smart_app.state.auth


@pytest.fixture
def smart_db(smart_app):
    """The app's database, for tests that check what the storage layer wrote."""
    return database_of(smart_app)


@pytest.fixture
def repository(smart_app):
    return SystemWriter(smart_app.state.services.storage.resources)


async def put(repository, resource: dict[str, Any]) -> dict[str, Any]:
    """Store a resource as an administrator would (no request, no token)."""
    stored = await repository.update(resource, resource["id"])
    return stored.resource


def patient(pid: str, family: str = "Doe") -> dict[str, Any]:
    return {"resourceType": "Patient", "id": pid, "name": [{"family": family}]}


def observation(oid: str, pid: str, category: str = "vital-signs",
                performer: str | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation", "id": oid, "status": "final",
        "category": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": category}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
        "subject": {"reference": f"Patient/{pid}"},
    }
    if performer:
        resource["performer"] = [{"reference": performer}]
    return resource


async def register(auth, client_id: str, kind: str, scope: str, **extra: Any) -> Client:
    from fhir_server.auth.registry import hash_secret

    secret = extra.pop("secret", None)
    client = Client(client_id, kind, scope, extra.pop("redirect_uris", [REDIRECT]),
                    hash_secret(secret) if secret else None, **extra)
    await auth.registry.add_client(client)
    return client


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.decode().rstrip("=")


def assertion(key, client_id: str, alg: str, *, aud: str = TOKEN_URL, exp_in: int = 240,
              jti: str | None = None, kid: str | None = "default") -> str:
    now = int(time.time())
    header = {"alg": alg, "typ": "JWT"}
    if kid is not None:
        header["kid"] = key.kid if kid == "default" else kid
    claims = {"iss": client_id, "sub": client_id, "aud": aud, "exp": now + exp_in,
              "iat": now, "jti": jti or uuid.uuid4().hex}
    return jwt.encode(header, claims, key, algorithms=[alg])


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- the authorization code flow, played by a person (tests/auth/browser.py) ------------
SCOPE = "launch/patient openid fhirUser patient/*.rs offline_access"


@pytest.fixture
async def people(auth, repository):
    await put(repository, {"resourceType": "Patient", "id": "p1",
                           "name": [{"family": "One", "given": ["Alice"]}]})
    await put(repository, {"resourceType": "Patient", "id": "p2",
                           "name": [{"family": "Two", "given": ["Bob"]}]})
    await put(repository, {"resourceType": "Practitioner", "id": "dr"})
    await auth.registry.add_user("alice", "alice-password", "Patient/p1")
    await auth.registry.add_user("drwho", "doctor-password", "Practitioner/dr")


@pytest.fixture
async def app_client(auth):
    return await register(auth, "app", "public",
                          "patient/*.rs user/*.rs offline_access", name="Growth chart")


def authorize_url(client_id: str, challenge: str | None, scope: str = SCOPE,
                  **extra: str) -> str:
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
              "scope": scope, "state": "st-123", "aud": BASE, **extra}
    if challenge is not None:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    return f"{ROOT}/auth/authorize?{urlencode(params)}"


async def exchange(http, code: str, verifier: str | None, client_id: str = "app",
                   **extra) -> Any:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_id": client_id}
    if verifier is not None:
        form["code_verifier"] = verifier
    return await http.post("/auth/token", data=form, **extra)


async def code_for(http, username="alice", password="alice-password", client_id="app",
                   scope=SCOPE, **kwargs) -> tuple[str, str]:
    verifier, challenge = pkce_pair()
    redirect = await sign_in_and_allow(http, authorize_url(client_id, challenge, scope),
                                       username, password, **kwargs)
    assert redirect.status_code == 303, redirect.text
    location = redirect.headers["location"]
    assert location.startswith(REDIRECT)
    reply = query_of(location)
    assert reply["state"] == "st-123"
    return reply["code"], verifier

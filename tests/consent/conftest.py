"""Fixtures: one ``--auth smart`` app per module over the test record, real signed tokens.

Consents are read from MongoDB on every request, so a scenario replaces the Consents and
the next request decides with them (no restart, no cache): the module-wide app and data
exercise exactly that.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from consent import ConsentPolicy
from fhir_server.access import SYSTEM
from fhir_server.access.scopes import parse_scopes
from fhir_server.storage import SystemWriter
from tests.conftest import database_of, smart_app_on

from .data import RECORD, REFERENCE_DATA

ROOT = "http://testserver"
BASE = f"{ROOT}/fhir"


@pytest.fixture(scope="module")
async def consent_app(mongodb_uri: str, mongo_client: AsyncMongoClient):
    async with smart_app_on(mongo_client, mongodb_uri, "test_consent") as application:
        repository = SystemWriter(application.state.services.storage.resources)
        for resource in [*REFERENCE_DATA, *RECORD]:
            await repository.update(resource, resource["id"])
        yield application


@pytest.fixture(scope="module")
async def http(consent_app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=consent_app)
    async with httpx.AsyncClient(transport=transport, base_url=ROOT) as client:
        yield client


@pytest.fixture(scope="module")
def db(consent_app):
    return database_of(consent_app)


def set_policy(app: Any, **changes: Any) -> None:
    """Deployment configuration for the next requests (``FHIR_CONSENT_*``)."""
    services = app.state.services
    services.access = dataclasses.replace(
        services.access, consent_policy=dataclasses.replace(ConsentPolicy(), **changes))


async def set_consents(app: Any, consents: list[dict[str, Any]]) -> None:
    """Replace every Consent, as an administrator (through the repository, no token)."""
    db = database_of(app)
    await db["Consent"].delete_many({})
    await db["history"].delete_many({"type": "Consent"})
    # and their subscription outbox entries, which the dispatcher may not have read yet
    # (the server itself never deletes a version: an entry's key is never used again)
    await db["subscription_outbox"].delete_many({"_id": {"$regex": "^Consent/"}})
    for resource in consents:
        await app.state.services.storage.resources.update(SYSTEM, resource, resource["id"])


async def token(app: Any, fhir_user: str | None, *, scope: str = "user/*.rs",
                kind: str = "user", patient: str | None = None,
                purposes: tuple[str, ...] = ()) -> dict[str, str]:
    """``Authorization`` header with an access token signed by the server's key."""
    value, _ = await app.state.auth.tokens.access_token(
        client_id="consent-tests", scopes=parse_scopes(scope), kind=kind,
        subject=fhir_user or "consent-tests", lifetime=600, fhir_user=fhir_user,
        patient=patient, purpose_of_use=purposes)
    return {"Authorization": f"Bearer {value}"}

"""Fixtures of the leak suite: one ``--auth smart`` app and one record for the whole
package (tests/security), real signed tokens for every actor, and the oracle: the same
request answered by the same app with access control off (what exists, unfiltered).

The record is stored once; the test modules run in file order and only
``test_writes.py`` (last) changes it, on purpose and within what its checks expect.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from consent import ConsentPolicy
from fhir_server.access import SYSTEM
from fhir_server.access.scopes import parse_scopes
from tests.conftest import smart_app_on

from .data import ACTORS, BINARIES, CONSENTS, EXPLAIN_ROLE, RECORD, REFERENCE_DATA, Actor

ROOT = "http://testserver"
BASE = f"{ROOT}/fhir"
CLIENT_ID = "leak-suite"
TRIM_LOG_EVERY = 25


@pytest.fixture(scope="package")
async def security_app(mongodb_uri: str, mongo_client: AsyncMongoClient):
    async with smart_app_on(mongo_client, mongodb_uri, "test_security") as application:
        services = application.state.services
        services.access = dataclasses.replace(services.access, consent_policy=ConsentPolicy(
            explain_roles=frozenset({EXPLAIN_ROLE})))
        resources = services.storage.resources
        for resource in [*REFERENCE_DATA, *RECORD, *CONSENTS]:
            await resources.update(SYSTEM, resource, resource["id"])
        limit = services.settings.max_binary_bytes
        for resource in BINARIES:
            stored, _ = await services.storage.binary.externalize(resource, limit)
            await resources.update(SYSTEM, stored, resource["id"])
        application.state.export.timings.min_poll = timedelta(0)
        yield application


@pytest.fixture(scope="package")
async def http(security_app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=security_app)
    async with httpx.AsyncClient(transport=transport, base_url=ROOT) as client:
        yield client


class Server:
    """Requests as an actor, and as the oracle."""

    def __init__(self, app: Any, http: httpx.AsyncClient) -> None:
        self.app = app
        self.http = http
        services = app.state.services
        self.db = services.client[services.settings.database]  # the suite's own database
        self._tokens: dict[tuple[str, str, str], str] = {}
        self._asked = 0
        self.keep_access_log = False  # set by the tests of the log itself
        self.answers: dict[str, Any] = {}

    async def _trim_access_log(self) -> None:
        """Empty the access log every few requests: every request adds events to the
        patients' compartments, and a path listing a whole compartment
        (``Patient/X/*?_count=5``) would otherwise page through thousands of them (the
        log is checked by test_audit.py, which empties it before each case)."""
        self._asked += 1
        if self._asked % TRIM_LOG_EVERY == 0 and not self.keep_access_log:
            await self.db["AuditEvent"].delete_many({})

    async def token(self, actor: Actor, situation: str, *, client_id: str = CLIENT_ID,
                    subject: str | None = None) -> str:
        fhir_user = actor.fhir_user_of(situation)
        key = (actor.name, situation if actor.per_situation else "", f"{client_id} {subject}")
        if key not in self._tokens:
            value, _ = await self.app.state.auth.tokens.access_token(
                client_id=client_id, scopes=parse_scopes(actor.scope), kind=actor.kind,
                subject=subject or fhir_user or client_id, lifetime=3600,
                fhir_user=fhir_user, patient=actor.patient_of(situation))
            self._tokens[key] = value
        return self._tokens[key]

    async def headers(self, actor: Actor, situation: str, **token: Any) -> dict[str, str]:
        value = await self.token(actor, situation, **token)
        return {"Authorization": f"Bearer {value}", **actor.headers}

    async def ask(self, actor: Actor | str, situation: str, method: str, url: str, *,
                  headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        who = ACTORS[actor] if isinstance(actor, str) else actor
        sent = {**await self.headers(who, situation), **(headers or {})}
        await self._trim_access_log()
        return await self.http.request(method, url, headers=sent, **kwargs)

    async def oracle(self, method: str, url: str, *, headers: dict[str, str] | None = None,
                     **kwargs: Any) -> httpx.Response:
        """The same request with access control off: everything that exists (a valid
        token still opens the door; the policy it gets is the unrestricted one)."""
        sent = {**await self.headers(ACTORS["backend"], ""), **(headers or {})}
        services = self.app.state.services
        secured = services.access
        services.access = dataclasses.replace(secured, auth_on=False)
        try:
            return await self.http.request(method, url, headers=sent, **kwargs)
        finally:
            services.access = secured


@pytest.fixture(scope="package")
def server(security_app, http) -> Server:
    return Server(security_app, http)



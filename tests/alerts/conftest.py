"""An app with ``--auth smart`` on a fresh database, tokens, and the test population."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from fhir_server.access.scopes import parse_scopes
from fhir_server.storage import SystemWriter
from tests.conftest import smart_app_on

ROOT = "http://testserver"
BASE = f"{ROOT}/fhir"
VALUE_SETS = "https://example.org/fhir/ValueSet/"
SNOMED = "http://snomed.info/sct"
MEASLES = "14189004"
PUBLIC_HEALTH_SCOPES = "system/Condition.rs system/Patient.rs system/DetectedIssue.rs"


@pytest.fixture(scope="package")
async def smart_app(mongodb_uri: str, mongo_client: AsyncMongoClient):
    """One app for these tests (each test uses its own value set and districts)."""
    async with smart_app_on(mongo_client, mongodb_uri, "test_alerts") as application:
        yield application


@pytest.fixture(scope="package")
async def http(smart_app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=smart_app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE + "/") as client:
        yield client


@pytest.fixture(scope="package")
def writer(smart_app) -> SystemWriter:
    return SystemWriter(smart_app.state.services.storage.resources)


async def token(app, scope: str, *, purposes: tuple[str, ...] = ("PUBHLTH",),
                fhir_user: str | None = None, kind: str = "backend") -> dict[str, str]:
    value, _ = await app.state.auth.tokens.access_token(
        client_id="alert-tests", scopes=parse_scopes(scope), kind=kind,
        subject=fhir_user or "alert-tests", lifetime=600, fhir_user=fhir_user,
        purpose_of_use=purposes)
    return {"Authorization": f"Bearer {value}"}


class Population:
    """A test's value set, patients, their Conditions and Consents, written as the server's
    administrator would (no token), in one transaction by :meth:`store`."""

    def __init__(self, writer: SystemWriter, today: date, name: str) -> None:
        self.writer = writer
        self.today = today
        self.name = name  # of the test's own value set, and prefix of its ids
        self.code = f"{MEASLES}-{name}"
        self.count = 0
        self.pending: list[tuple[dict[str, Any], str]] = []

    @property
    def value_set(self) -> str:
        return VALUE_SETS + self.name

    def add(self, resource: dict[str, Any]) -> None:
        self.pending.append((resource, resource["id"]))

    def add_value_set(self) -> None:
        self.add({"resourceType": "ValueSet", "id": self.name, "url": self.value_set,
                  "status": "active", "compose": {"include": [
                      {"system": SNOMED, "concept": [{"code": self.code}]}]}})

    async def store(self) -> None:
        pending, self.pending = self.pending, []
        await self.writer.in_transaction(
            lambda session: self.writer.create_many(pending, session=session))

    def scan(self, **values: Any) -> dict[str, Any]:
        """The scan's Parameters for this value set, the window ending today."""
        parameters = [{"name": "valueSet", "valueUri": self.value_set},
                      {"name": "windowEnd", "valueDate": self.today.isoformat()}]
        for name, value in values.items():
            key = {int: "valueInteger", str: "valueString", float: "valueDecimal"}[type(value)]
            parameters.append({"name": name, key: value})
        return {"resourceType": "Parameters", "parameter": parameters}

    def case(self, *, district: str | None = None, postal_code: str | None = None,
                   days_ago: int = 1, recorded: bool = False, refuses: bool = False,
                   code: str | None = None) -> str:
        self.count += 1
        pid = f"{self.name}-p{self.count}"
        address: dict[str, Any] = {"use": "home", "city": "Somewhere"}
        if district:
            address["district"] = district
        if postal_code:
            address["postalCode"] = postal_code
        self.add({"resourceType": "Patient", "id": pid,
                  "name": [{"family": f"Family{self.count}"}], "address": [address]})
        day = (self.today - timedelta(days=days_ago)).isoformat()
        condition: dict[str, Any] = {
            "resourceType": "Condition", "id": f"{pid}-c",
            "code": {"coding": [{"system": SNOMED, "code": code or self.code}]},
            "subject": {"reference": f"Patient/{pid}"}}
        condition["recordedDate" if recorded else "onsetDateTime"] = day
        self.add(condition)
        if refuses:
            self.add(refusal(pid))
        return pid


def refusal(pid: str) -> dict[str, Any]:
    """A Consent that shares the record for care but refuses public-health use."""
    return {
        "resourceType": "Consent", "id": f"refusal-{pid}", "status": "active",
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                              "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": f"Patient/{pid}"},
        "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                                   "code": "OPTIN"}]},
        "provision": {"provision": [{"type": "deny", "purpose": [
            {"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
             "code": "PUBHLTH"}]}]}}


def areas(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The output's areas by name, each as {part name: value}."""
    found = {}
    for parameter in answer["parameter"]:
        if parameter["name"] == "area":
            parts = {p["name"]: next(v for k, v in p.items() if k.startswith("value"))
                     for p in parameter["part"]}
            found[parts["name"]] = parts
    return found


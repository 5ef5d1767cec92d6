"""A search database loaded once per session with four Synthea patients (421 resources)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from bench.explain import Recorder
from fhir_server.config import Settings
from fhir_server.rest.app import create_app
from fhir_server.search.custom import RegistryStore
from fhir_server.search.engine import SearchEngine
from fhir_server.storage import Queries
from fhir_server.storage.search_registry import SearchRegistryDocument

from .synthea import BUNDLES, bundle_resources, load_resources

BASE = "http://testserver/fhir"
LOADED = ("Luigi", "Enda", "Joie", "Eboni")  # two children, two pregnancies


@dataclass
class Loaded:
    client: httpx.AsyncClient
    app: Any
    resources: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))

    def of(self, resource_type: str) -> list[dict[str, Any]]:
        return self.resources[resource_type]

    def by_reference(self, reference: str) -> dict[str, Any] | None:
        resource_type, _, rid = reference.partition("/")
        return next((r for r in self.of(resource_type) if r["id"] == rid), None)


@pytest.fixture(scope="session")
async def synthea(mongo_client: AsyncMongoClient, mongodb_uri: str) -> AsyncIterator[Loaded]:
    database = f"test_search_{uuid.uuid4().hex[:8]}"
    settings = Settings(database=database, mongodb_uri=mongodb_uri, base_url=BASE)
    app = create_app(settings, mongo_client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE + "/") as client:
            loaded = Loaded(client, app)
            resources = {}
            for path in sorted(BUNDLES.glob("*/*.json")):
                if path.name.startswith(LOADED):
                    for resource in bundle_resources(path):
                        resources[(resource["resourceType"], resource["id"])] = resource
            await load_resources(client, list(resources.values()))
            for resource in resources.values():
                loaded.resources[resource["resourceType"]].append(resource)
            yield loaded
    await mongo_client.drop_database(database)


@pytest.fixture
async def monitored(synthea: Loaded, mongodb_uri: str
                    ) -> AsyncIterator[tuple[SearchEngine, Any, Recorder]]:
    """A search engine on the Synthea database whose finds are recorded."""
    listener = Recorder()
    client = AsyncMongoClient(mongodb_uri, event_listeners=[listener], tz_aware=True)
    settings = synthea.app.state.services.settings
    db = client[settings.database]
    engine = SearchEngine(Queries(db), RegistryStore(SearchRegistryDocument(db)), settings)
    await engine.store.refresh(force=True)
    yield engine, db, listener
    await client.close()


async def search_ids(client: httpx.AsyncClient, url: str, **params: Any) -> list[str]:
    """Ids of every match of a search, following ``next`` links."""
    ids: list[str] = []
    response = await client.get(url, params={"_count": "200", **params})
    while True:
        assert response.status_code == 200, response.text[:1000]
        bundle = response.json()
        ids += [e["resource"]["id"] for e in bundle.get("entry", [])
                if e["search"]["mode"] == "match"]
        following = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
        if not following:
            return ids
        assert following[0].startswith(BASE + "/")
        response = await client.get(following[0][len(BASE) + 1 :])

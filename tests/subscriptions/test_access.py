"""A subscriber only hears about what its owner may read (--auth smart, real tokens): a
client whose scope reads Observations of one patient only gets events about that patient
only (no event, not even a number, about the other), while a system client gets them
all."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pymongo import AsyncMongoClient

from fhir_server.access.scopes import parse_scopes
from tests.conftest import smart_app_on

from .helpers import events, kind, observation, subscription
from .receiver import Receiver

ROOT = "http://testserver"
BASE = f"{ROOT}/fhir"


@pytest.fixture
async def smart_app(mongodb_uri: str, mongo_client: AsyncMongoClient):
    async with smart_app_on(mongo_client, mongodb_uri, "test_subs_access") as application:
        yield application


@pytest.fixture
async def http(smart_app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=smart_app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE + "/") as client:
        yield client


@pytest.fixture
async def receivers() -> AsyncIterator[tuple[Receiver, Receiver]]:
    hooks = (await Receiver().start(), await Receiver().start())
    yield hooks
    for hook in hooks:
        await hook.stop()


async def token(app, scope: str) -> dict[str, str]:
    value, _ = await app.state.auth.tokens.access_token(
        client_id="subscription-tests", scopes=parse_scopes(scope), kind="backend",
        subject="subscription-tests", lifetime=600)
    return {"Authorization": f"Bearer {value}"}


async def test_subscriber_hears_only_about_patients_it_may_read(smart_app, http, receivers):
    system = await token(smart_app, "system/*.cruds")
    mine = await token(smart_app, "system/Observation.rs?subject=Patient/p1 "
                       "system/Subscription.cruds")
    for pid in ("p1", "p2"):
        created = await http.put(f"Patient/{pid}", headers=system,
                                 json={"resourceType": "Patient", "id": pid})
        assert created.status_code in (200, 201), created.text
    hook_p1, hook_all = receivers
    for headers, hook in ((mine, hook_p1), (system, hook_all)):
        created = await http.post("Subscription", headers=headers, json=subscription(
            "observation-changed", endpoint=hook.url, content="full-resource"))
        assert created.status_code == 201, created.text
        await hook.wait_for(lambda b: any(kind(x) == "handshake" for x in b))
    written = {}
    for pid in ("p2", "p1", "p2", "p2", "p1"):
        response = await http.post("Observation", headers=system, json=observation(pid))
        assert response.status_code == 201, response.text
        written[response.json()["id"]] = pid
    everything = await hook_all.wait_for(lambda b: len(events(b)) >= 5)
    assert [int(e["event-number"]) for e in events(everything)] == [1, 2, 3, 4, 5]
    # the events are numbered in one dispatcher round after another: once the system
    # subscriber has all five, the patient app's two were numbered too
    own = await hook_p1.wait_for(lambda b: len(events(b)) >= 2)
    got = events(own)
    assert [int(e["event-number"]) for e in got] == [1, 2]
    focus = [e["focus"]["reference"].rsplit("/", 1)[-1] for e in got]
    assert [written[f] for f in focus] == ["p1", "p1"]
    sent = [e for b in own for e in b.get("entry", [])[1:]]
    assert all(e["resource"]["subject"]["reference"] == "Patient/p1" for e in sent)
    assert "p2" not in str(own)

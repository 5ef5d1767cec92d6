"""Storing the shipped content (fhir_server/storage/conformance_seed.py): a client's
resource is never replaced, an unchanged shipped one follows the shipped content, a crash
or a second process leaves every resource stored once, and the validator uses a client's version."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fhir_server.storage import SystemWriter
from fhir_server.storage.conformance_seed import (
    LEASE,
    MARKER,
    SHIPPED_TAG,
    STATE,
    SeedingError,
    ShippedContent,
    content_stored,
    keep_seeding,
    seed_shipped,
)
from fhir_server.storage.conformance_store import ConformanceStore
from fhir_server.validation import shipped_content
from profiles.registry import DefinitionRegistry
from terminology import LocalTerminology, shipped_terminology

JSON = {"Content-Type": "application/fhir+json"}
SAMPLE = ("CodeSystem/abstract-types", "CodeSystem/administrative-gender", "CodeSystem/cvx",
          "CodeSystem/observation-status", "ConceptMap/cm-name-use-v2",
          "StructureDefinition/bodyweight", "StructureDefinition/mch-pregnancy-status",
          "StructureDefinition/vitalsigns", "ValueSet/abstract-types",
          "ValueSet/administrative-gender", "ValueSet/marital-status",
          "ValueSet/pregnancy-status")
GENDER = "http://hl7.org/fhir/ValueSet/administrative-gender"
ROOT = Path(__file__).parents[2]


def sample(keys: tuple[str, ...] = SAMPLE) -> list[dict]:
    return [r for r in shipped_content() if f"{r['resourceType']}/{r['id']}" in keys]


async def versions(db, key: str) -> list[int]:
    kind, rid = key.split("/")
    return sorted([d["vid"] async for d in db["history"].find({"type": kind, "id": rid})])


async def test_the_sample_is_stored_tagged_once(app, client, db):
    repository = SystemWriter(app.state.services.storage.resources)
    first = await seed_shipped(db, repository, sample(), batch_size=2)
    assert (first.seeded, first.created) == (True, len(SAMPLE))
    again = await seed_shipped(db, repository, sample(), batch_size=2)
    assert (again.seeded, again.stored) == (False, 0)
    for key in SAMPLE:
        assert await versions(db, key) == [1], key
    profile = (await client.get("StructureDefinition/mch-pregnancy-status")).json()
    assert SHIPPED_TAG in profile["meta"]["tag"]
    assert (await db[STATE].find_one({"_id": MARKER}))["state"] == "done"


async def test_a_client_resource_under_a_shipped_id_is_never_replaced(app, client, db, caplog):
    mine = {"resourceType": "CodeSystem", "id": "abstract-types", "status": "draft",
            "url": "https://example.org/CodeSystem/mine", "content": "complete",
            "concept": [{"code": "mine"}]}
    created = await client.put("CodeSystem/abstract-types", json=mine, headers=JSON)
    assert created.status_code == 201, created.text
    repository = SystemWriter(app.state.services.storage.resources)
    with caplog.at_level(logging.WARNING, logger="fhir_server.storage.conformance_seed"):
        outcome = await seed_shipped(db, repository, sample(), batch_size=2)
    assert outcome.left_alone == ["CodeSystem/abstract-types"]
    assert outcome.created == len(SAMPLE) - 1
    stored = (await client.get("CodeSystem/abstract-types")).json()
    assert stored["meta"]["versionId"] == "1"
    assert stored["url"] == mine["url"] and stored["concept"] == [{"code": "mine"}]
    assert "tag" not in stored["meta"]
    assert "CodeSystem/abstract-types" in caplog.text
    changed = sample()  # a later content version leaves it alone too
    changed[0] = {**changed[0], "description": "a newer shipped text"}
    later = await seed_shipped(db, repository, changed, batch_size=2)
    assert "CodeSystem/abstract-types" in later.left_alone
    assert await versions(db, "CodeSystem/abstract-types") == [1]


async def test_a_newer_shipped_version_updates_only_what_nobody_changed(app, client, db):
    repository = SystemWriter(app.state.services.storage.resources)
    older = [{**r, "description": "an older shipped text"} for r in sample()
             if r["id"] != "pregnancy-status"]  # new in the newer version
    first = await seed_shipped(db, repository, older, batch_size=2)
    assert first.created == len(SAMPLE) - 1
    edited = (await client.get("ValueSet/administrative-gender")).json()
    edited["description"] = "the client's own text"
    assert (await client.put("ValueSet/administrative-gender", json=edited,
                             headers=JSON)).status_code == 200
    assert (await client.delete("ValueSet/abstract-types")).status_code == 200

    outcome = await seed_shipped(db, repository, sample(), batch_size=2)
    assert sorted(outcome.left_alone) == ["ValueSet/abstract-types",
                                          "ValueSet/administrative-gender"]
    assert (outcome.created, outcome.updated) == (1, len(SAMPLE) - 3)
    updated = (await client.get("CodeSystem/cvx")).json()
    assert updated["meta"]["versionId"] == "2"
    assert updated["description"] != "an older shipped text"
    assert SHIPPED_TAG in updated["meta"]["tag"]
    kept = (await client.get("ValueSet/administrative-gender")).json()
    assert (kept["meta"]["versionId"], kept["description"]) == ("2", "the client's own text")
    assert (await client.get("ValueSet/abstract-types")).status_code == 410
    assert await versions(db, "ValueSet/pregnancy-status") == [1]


async def test_content_stored_before_records_existed_is_adopted(app, db):
    """A database seeded by an earlier release holds the same tagged content without
    seeding records: it is recognised as shipped, not taken for a client's."""
    repository = SystemWriter(app.state.services.storage.resources)
    [cvx] = sample(("CodeSystem/cvx",))
    meta = {**cvx.get("meta", {}), "tag": [SHIPPED_TAG]}
    await repository.update({**cvx, "meta": meta}, "cvx")
    outcome = await seed_shipped(db, repository, [cvx])
    assert (outcome.left_alone, outcome.unchanged, outcome.stored) == ([], 1, 0)
    newer = await seed_shipped(db, repository, [{**cvx, "description": "newer"}])
    assert newer.updated == 1
    assert await versions(db, "CodeSystem/cvx") == [1, 2]


async def test_a_seeding_killed_midway_is_finished_by_the_next_start(app, db, settings,
                                                                     mongodb_uri):
    crashed = subprocess.run(
        [sys.executable, "-m", "tests.terminology.crashing_seeder", mongodb_uri,
         settings.database, "2", *SAMPLE],
        cwd=ROOT, capture_output=True, timeout=300)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr.decode()
    marker = await db[STATE].find_one({"_id": MARKER})
    assert marker["state"] == "loading"
    stored_before = [key for key in SAMPLE if await versions(db, key)]
    assert len(stored_before) == 4  # two batches of two committed, then the kill

    writer = SystemWriter(app.state.services.storage.resources)
    outcome = await seed_shipped(db, writer, sample(), batch_size=2)
    assert outcome.seeded
    assert (outcome.created, outcome.unchanged) == (len(SAMPLE) - 4, 4)
    for key in SAMPLE:
        assert await versions(db, key) == [1], key
    assert (await db[STATE].find_one({"_id": MARKER}))["state"] == "done"


async def test_two_processes_seeding_at_once_store_each_resource_once(app, db):
    repository = SystemWriter(app.state.services.storage.resources)
    outcomes = await asyncio.gather(
        seed_shipped(db, repository, sample(), batch_size=2),
        seed_shipped(db, repository, sample(), batch_size=2))
    assert sorted(o.seeded for o in outcomes) == [False, True]
    for key in SAMPLE:
        assert await versions(db, key) == [1], key


async def test_waiting_for_a_live_seeder_is_bounded(app, db):
    await db[STATE].insert_one({
        "_id": MARKER, "state": "loading", "version": "another",
        "owner": {"host": socket.gethostname(), "pid": os.getpid(), "token": "other"},
        "heartbeat": datetime.now(UTC)})
    with pytest.raises(SeedingError, match="FHIR_SEED_WAIT_SECONDS"):
        writer = SystemWriter(app.state.services.storage.resources)
        await seed_shipped(db, writer, sample(), wait_seconds=0)
    assert await db["CodeSystem"].count_documents({}) == 0


async def test_a_lease_without_heartbeat_is_taken_over(app, db):
    await db[STATE].insert_one({
        "_id": MARKER, "state": "loading", "version": "another",
        "owner": {"host": "another-host", "pid": 1, "token": "other"},
        "heartbeat": datetime.now(UTC) - LEASE - timedelta(seconds=1)})
    writer = SystemWriter(app.state.services.storage.resources)
    outcome = await seed_shipped(db, writer, sample(), wait_seconds=0)
    assert outcome.created == len(SAMPLE)


async def test_the_validator_uses_a_clients_version_of_a_shipped_resource(app, client, db):
    await seed_shipped(db, SystemWriter(app.state.services.storage.resources), sample())
    store = ConformanceStore(db, DefinitionRegistry(), LocalTerminology(
        base=shipped_terminology()), interval=0)
    await store.refresh(force=True)
    assert store.terminology.resources("ValueSet") == shipped_terminology().resources(
        "ValueSet")  # the shipped copies in MongoDB are not loaded twice
    assert store.terminology.validate_code(GENDER, "male") is True

    narrowed = (await client.get("ValueSet/administrative-gender")).json()
    narrowed["compose"] = {"include": [{"system": "http://hl7.org/fhir/administrative-gender",
                                        "concept": [{"code": "female"}]}]}
    assert SHIPPED_TAG in narrowed["meta"]["tag"]  # still tagged: the version tells
    assert (await client.put("ValueSet/administrative-gender", json=narrowed,
                             headers=JSON)).status_code == 200
    assert await store.refresh() is True
    assert store.terminology.validate_code(GENDER, "male") is False
    assert await store.refresh() is False


def test_supported_profiles_by_resource_type():
    profiles = DefinitionRegistry().supported_profiles()
    assert "https://mch-fhir.org/fhir/StructureDefinition/mch-pregnancy-status" in profiles[
        "Observation"]
    assert "http://hl7.org/fhir/StructureDefinition/vitalsigns" in profiles["Observation"]
    assert profiles["Encounter"] == [
        "https://mch-fhir.org/fhir/StructureDefinition/mch-prenatal-encounter"]
    assert "Extension" not in profiles


class FailingAfterFirstBatch:
    """The real system writer, failing (as a lost connection would) after one transaction."""

    def __init__(self, repository) -> None:
        self.repository = repository
        self.transactions = 0

    def __getattr__(self, name: str):
        return getattr(self.repository, name)

    async def in_transaction(self, work):
        if self.transactions == 1:
            raise ConnectionError("the database went away")
        self.transactions += 1
        return await self.repository.in_transaction(work)


class StoppedAfterFirstBatch(FailingAfterFirstBatch):
    """The real system writer; after one transaction, the task storing is cancelled (as
    the server's stop does) or, with ``error``, the next transaction fails once."""

    def __init__(self, repository, error: Exception | None = None) -> None:
        super().__init__(repository)
        self.error = error

    async def in_transaction(self, work):
        if self.transactions == 1 and self.error is not None:
            error, self.error = self.error, None
            raise error
        result = await self.repository.in_transaction(work)
        self.transactions += 1
        if self.transactions == 1 and self.error is None:
            asyncio.current_task().cancel()
        return result


async def test_a_failed_seeding_is_retried_in_the_background(app, db, caplog):
    content = ShippedContent(sample(), batch_size=2)
    repository = StoppedAfterFirstBatch(SystemWriter(app.state.services.storage.resources),
                                        ConnectionError("the database went away"))
    with caplog.at_level(logging.ERROR):
        outcome = await keep_seeding(db, repository, content, retry_seconds=0)
    assert "Storing the shipped content failed" in caplog.text
    assert (outcome.unchanged, outcome.created) == (2, len(SAMPLE) - 2)
    assert await content_stored(db, content.version)
    for key in SAMPLE:
        assert await versions(db, key) == [1], key


async def test_a_seeding_stopped_midway_releases_its_lease_and_the_next_continues(app, db):
    content = ShippedContent(sample(), batch_size=2)
    writer = SystemWriter(app.state.services.storage.resources)
    task = asyncio.create_task(keep_seeding(db, StoppedAfterFirstBatch(writer), content))
    with pytest.raises(asyncio.CancelledError):
        await task
    marker = await db[STATE].find_one({"_id": MARKER})
    assert (marker["state"], marker["heartbeat"]) == ("loading", None)  # released
    assert not await content_stored(db, content.version)
    outcome = await seed_shipped(db, writer, content, wait_seconds=0)
    assert (outcome.unchanged, outcome.created) == (2, len(SAMPLE) - 2)
    assert await content_stored(db, content.version)


async def test_an_interrupted_newer_version_is_still_known_as_shipped(app, db):
    """Half-way through storing a newer content version, the resources of the older one
    are still seeding's: the validator does not take them for a client's."""
    repository = SystemWriter(app.state.services.storage.resources)
    await seed_shipped(db, repository, sample(), batch_size=2)
    newer = [{**r, "description": "a newer shipped text"} for r in sample()]
    with pytest.raises(ConnectionError):
        await seed_shipped(db, FailingAfterFirstBatch(repository), newer, batch_size=2)
    assert (await db[STATE].find_one({"_id": MARKER}))["heartbeat"] is None  # released
    store = ConformanceStore(db, DefinitionRegistry(), LocalTerminology(
        base=shipped_terminology()))
    await store.refresh(force=True)
    assert store.registry.stored_definitions() == []
    assert store.terminology.resources("CodeSystem") == shipped_terminology().resources(
        "CodeSystem")
    finished = await seed_shipped(db, repository, newer, batch_size=2, wait_seconds=0)
    assert (finished.unchanged, finished.updated) == (2, len(SAMPLE) - 2)


async def test_a_starting_process_finds_the_clients_content_from_the_checkpoint_or_not(
        app, client, db):
    await seed_shipped(db, SystemWriter(app.state.services.storage.resources), sample())
    mine = {"resourceType": "ValueSet", "id": "mine", "status": "draft",
            "url": "https://example.org/ValueSet/mine",
            "compose": {"include": [{"system": "https://example.org/codes",
                                     "concept": [{"code": "a"}]}]}}
    assert (await client.put("ValueSet/mine", json=mine, headers=JSON)).status_code == 201
    narrowed = (await client.get("ValueSet/administrative-gender")).json()
    narrowed["compose"]["include"][0]["concept"] = [{"code": "female"}]
    assert (await client.put("ValueSet/administrative-gender", json=narrowed,
                             headers=JSON)).status_code == 200
    for checkpoint in (True, False):
        if checkpoint:  # recorded by the app's own start, before these writes
            assert await db[STATE].find_one({"_id": "conformance-store"}) is not None
        else:
            await db[STATE].delete_one({"_id": "conformance-store"})
        store = ConformanceStore(db, DefinitionRegistry(), LocalTerminology(
            base=shipped_terminology()))
        await store.refresh(force=True)
        assert store.terminology.validate_code(mine["url"], "a") is True
        assert store.terminology.validate_code(GENDER, "male") is False
        recorded = await db[STATE].find_one({"_id": "conformance-store"})
        assert sorted(recorded["ids"]["ValueSet"]) == ["administrative-gender", "mine"]

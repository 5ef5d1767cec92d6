"""``fhir-server load``: idempotent, resumable bulk loading with per-file problem reports."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fhir_server.bundles.loading import Loader
from fhir_server.storage.load_progress import PROGRESS

from .synthea import BUNDLES, SYNTHEA, load, stored_references


def expected_ids(paths: list[Path]) -> set[tuple[str, str]]:
    return {(e["resource"]["resourceType"], e["resource"]["id"])
            for path in paths for e in load(path)["entry"]}


async def resource_ids(db) -> set[tuple[str, str]]:
    found = set()
    for name in await db.list_collection_names():
        if name[0].isupper():
            found.update([(name, d["_id"]) async for d in db[name].find({}, {"_id": 1})])
    return found


def run_cli(mongodb_uri: str, database: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MONGODB_URI": mongodb_uri, "FHIR_DATABASE": database}
    return subprocess.run([sys.executable, "-m", "fhir_server.cli", "load", "--quiet", *args],
                          env=env, capture_output=True, text=True, timeout=600)


async def test_cli_loads_synthea_once_and_twice_creates_nothing(mongodb_uri, mongo_client,
                                                                 database_name):
    db = mongo_client[database_name]
    try:
        first = run_cli(mongodb_uri, database_name, str(SYNTHEA / "bundles"))
        assert first.returncode == 0, first.stdout + first.stderr
        assert "13 files: 13 loaded" in first.stdout
        ids = expected_ids(BUNDLES)
        assert await resource_ids(db) == ids  # shared Organizations/Practitioners once
        versions = await db["history"].count_documents({})
        assert versions == len(ids)
        again = run_cli(mongodb_uri, database_name, str(SYNTHEA / "bundles"))
        assert again.returncode == 0 and "13 already loaded" in again.stdout
        sharing = [str(p) for p in BUNDLES if p.name.startswith(("Shavonne_", "Maximina_"))]
        forced = run_cli(mongodb_uri, database_name, "--force", *sharing)
        assert forced.returncode == 0, forced.stdout + forced.stderr
        assert await db["history"].count_documents({}) == versions
        assert await resource_ids(db) == ids
        refs = await stored_references(db)
        missing = [r for r in refs if tuple(r.split("/")) not in ids]
        assert refs and missing == []
    finally:
        await mongo_client.drop_database(database_name)


async def test_bad_files_are_reported_and_the_rest_loads(app, db, tmp_path):
    good = tmp_path / "good.json"
    shutil.copy(BUNDLES[0], good)
    (tmp_path / "broken.json").write_text("{not json")
    bad_entry = load(BUNDLES[1])
    bad_entry["entry"][5]["resource"]["resourceType"] = "NoSuchType"
    (tmp_path / "bad-entry.json").write_text(json.dumps(bad_entry))
    loader = Loader(app.state.services)
    reports = {p.name: await loader.load_file(p) for p in sorted(tmp_path.iterdir())}
    assert reports["good.json"].problems == []
    assert reports["good.json"].resources == len(load(BUNDLES[0])["entry"])
    assert reports["broken.json"].problems[0].startswith("Bundle failed: Malformed JSON")
    assert "Bundle.entry[5]" in reports["bad-entry.json"].problems[0]
    assert reports["bad-entry.json"].resources == 0
    assert await resource_ids(db) == expected_ids([BUNDLES[0]])
    recorded = {d["path"] async for d in db[PROGRESS].find({})}
    assert str(good) in recorded and str(tmp_path / "bad-entry.json") not in recorded


async def test_ndjson_bad_lines_are_reported_by_line(app, db, tmp_path):
    source = SYNTHEA / "bulk-ndjson-10-patients"
    for name in ("Patient.000.ndjson", "Organization.000.ndjson", "log.ndjson"):
        shutil.copy(source / name, tmp_path / name)
    lines = (source / "AllergyIntolerance.000.ndjson").read_text().splitlines()
    lines[2] = '{"resourceType": "AllergyIntolerance", "id": "x", "clinicalStatus": 7}'
    lines.insert(4, "not json at all")
    (tmp_path / "AllergyIntolerance.000.ndjson").write_text("\n".join(lines) + "\n")
    loader = Loader(app.state.services, chunk_size=5)
    reports = {p.name: await loader.load_file(p) for p in sorted(tmp_path.iterdir())}
    assert reports["Patient.000.ndjson"].resources == 12
    assert reports["Organization.000.ndjson"].resources == 43
    assert [p.split(":")[0] for p in reports["log.ndjson"].problems] == [
        "line 1", "line 2", "line 3", "line 4"]
    allergy = reports["AllergyIntolerance.000.ndjson"]
    assert sorted(p.split(":")[0] for p in allergy.problems) == ["line 3", "line 5"]
    assert allergy.resources == 10
    assert await db["AllergyIntolerance"].count_documents({}) == 10
    assert await db["Patient"].count_documents({}) == 12


class Interrupted(Exception):
    pass


async def test_an_interrupted_ndjson_load_resumes(app, db, tmp_path):
    path = tmp_path / "Organization.000.ndjson"
    shutil.copy(SYNTHEA / "bulk-ndjson-10-patients" / path.name, path)
    seen = []

    def crash_after_two_chunks(n: int) -> None:
        seen.append(n)
        if len(seen) == 2:
            raise Interrupted

    with pytest.raises(Interrupted):
        await Loader(app.state.services, chunk_size=10,
                     progress=crash_after_two_chunks).load_file(path)
    assert await db["Organization"].count_documents({}) == 20
    assert await db[PROGRESS].count_documents({}) == 1  # the first chunk only
    counted = []
    report = await Loader(app.state.services, chunk_size=10,
                          progress=counted.append).load_file(path)
    assert report.problems == [] and report.resources == 33  # 43 - the 10 recorded
    assert sum(counted) == 43
    assert await db["Organization"].count_documents({}) == 43
    assert await db["history"].count_documents({"type": "Organization"}) == 43


@pytest.mark.slow
def test_cli_loads_into_a_running_servers_embedded_database(tmp_path):
    """``fhir-server load --data-dir`` attaches to the database of the server on that dir."""
    import time

    import httpx

    from tests.conftest import free_port

    env = {k: v for k, v in os.environ.items() if k not in ("MONGODB_URI", "FHIR_DATABASE")}
    port = free_port()
    data_dir = tmp_path / "data"
    server = subprocess.Popen(
        [sys.executable, "-m", "fhir_server.cli", "serve", "--data-dir", str(data_dir),
         "--port", str(port)],
        env={**env, "FHIR_TERMINOLOGY_SEED": "off"}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/fhir"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/metadata", timeout=30).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        smallest = min(BUNDLES, key=lambda p: p.stat().st_size)
        loaded = subprocess.run(
            [sys.executable, "-m", "fhir_server.cli", "load", "--quiet", "--data-dir",
             str(data_dir), str(smallest)],
            env=env, capture_output=True, text=True, timeout=600)
        assert loaded.returncode == 0, loaded.stdout + loaded.stderr
        assert "1 loaded" in loaded.stdout
        patient = next(e["resource"] for e in load(smallest)["entry"]
                       if e["resource"]["resourceType"] == "Patient")
        read = httpx.get(f"{base}/Patient/{patient['id']}", timeout=30)
        assert read.status_code == 200 and read.json()["name"] == patient["name"]
    finally:
        server.terminate()
        server.wait(timeout=60)

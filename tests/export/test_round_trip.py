"""Exporting the loaded Synthea bulk data and re-importing the files with ``fhir-server load``
into an empty database gives back the same resources (ids and content; versions and
lastUpdated are the new server's). Three patients' records and the shared resources keep
the test short; ``bench/export.py`` exports larger volumes."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import orjson

from fhir_server.bundles.loading import Loader

from .conftest import export_all

DATA = Path(__file__).parents[1] / "data" / "synthea" / "bulk-ndjson-10-patients"
FIRST = ("Organization", "Location", "Practitioner", "PractitionerRole", "Patient")


def _in_reference_order(paths: list[Path]) -> list[Path]:
    """Referenced types first: the Synthea files use conditional references."""
    rank = {name: i for i, name in enumerate(FIRST)}
    return sorted(paths, key=lambda p: (rank.get(p.name.split(".")[0], len(FIRST)), p.name))


def _subset(tmp_path: Path, patients: int = 3) -> list[Path]:
    """Every shared resource (organizations, locations, practitioners) and the records of
    the first ``patients`` patients, in reference order (keeps the test to a minute)."""
    tmp_path.mkdir()
    kept = [orjson.loads(line)["id"] for line in
            (DATA / "Patient.000.ndjson").read_text().splitlines()[:patients]]
    written = []
    for path in _in_reference_order(list(DATA.glob("*.000.ndjson"))):
        lines = path.read_text().splitlines()
        if path.name.split(".")[0] not in FIRST[:4]:
            lines = [line for line in lines if any(pid in line for pid in kept)]
        target = tmp_path / path.name
        target.write_text("\n".join(lines) + "\n")
        written.append(target)
    return written


def _content(resource: dict) -> dict:
    return {k: v for k, v in resource.items() if k != "meta"}


async def _stored(db, types: list[str]) -> dict[tuple[str, str], dict]:
    from fhir_server.json_io import from_bson

    found = {}
    for resource_type in types:
        async for document in db[resource_type].find({}, {"resource": 1}):
            resource = from_bson(document["resource"])
            found[(resource_type, resource["id"])] = _content(resource)
    return found


async def test_export_then_load_into_an_empty_server(app, client, db, fast_polling,
                                                     mongodb_uri, mongo_client, tmp_path):
    loader = Loader(app.state.services)
    source = _subset(tmp_path / "source")
    for path in source:
        report = await loader.load_file(path)
        assert report.problems == [], report.problems
    manifest, files = await export_all(client, "$export")
    types = sorted(files)
    loaded = {p.name.split(".")[0]: sum(1 for line in p.read_text().splitlines() if line)
              for p in source}
    assert {o["type"]: o["count"] for o in manifest["output"]} == {
        t: n for t, n in loaded.items() if n}
    out = tmp_path / "export"
    out.mkdir()
    for output in manifest["output"]:
        response = await client.get(output["url"])
        (out / f"{output['type']}.ndjson").write_bytes(response.content)
    target = f"test_reimport_{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "MONGODB_URI": mongodb_uri, "FHIR_DATABASE": target}
    try:
        done = subprocess.run([sys.executable, "-m", "fhir_server.cli", "load", "--quiet",
                               str(out)], env=env, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        original = await _stored(db, types)
        reimported = await _stored(mongo_client[target], types)
    finally:
        await mongo_client.drop_database(target)
    assert reimported.keys() == original.keys()
    assert reimported == original

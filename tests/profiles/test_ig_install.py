"""Installing an implementation guide package (``fhir-server ig install``): the package's
conformance resources are stored as resources, differential-only profiles get a snapshot,
the profiles are enforced on write once the server has refreshed, and installing again
updates in place (profiles/install.py, docs/profiles.md)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from fhir_server.storage.packages import INSTALLED_PACKAGES
from profiles.install import install_package
from profiles.packages import PackageError, read_package

FHIR_JSON = {"Content-Type": "application/fhir+json"}
US_CORE = Path(__file__).parents[1] / "data" / "profiles" / "us-core-6.1.0"
BMI = "http://hl7.org/fhir/us/core/StructureDefinition/pediatric-bmi-for-age"
FEEDING_PROFILE = {
    "resourceType": "StructureDefinition", "id": "infant-feeding-observation",
    "url": "https://example.org/StructureDefinition/infant-feeding-observation",
    "name": "InfantFeedingObservation", "status": "draft", "fhirVersion": "4.0.1",
    "kind": "resource", "abstract": False, "type": "Observation", "derivation": "constraint",
    "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Observation",
    "differential": {"element": [
        {"id": "Observation.code.coding", "path": "Observation.code.coding", "min": 1},
        {"id": "Observation.code.coding.system", "path": "Observation.code.coding.system",
         "min": 1, "fixedUri": "http://loinc.org"}]}}
SEARCH_PARAMETER = {
    "resourceType": "SearchParameter", "id": "observation-feeding-method",
    "url": "https://example.org/SearchParameter/observation-feeding-method",
    "name": "feeding-method", "status": "draft", "code": "feeding-method",
    "base": ["Observation"], "type": "token", "description": "Feeding method",
    "expression": "Observation.value.ofType(CodeableConcept)"}


def _package(tmp_path: Path, version: str = "6.1.0", status: str = "draft") -> Path:
    manifest = json.loads((US_CORE / "package.json").read_text())
    manifest["version"] = version
    files = {"package/package.json": json.dumps(manifest).encode()}
    for path in sorted(US_CORE.glob("*-*.json")):
        files[f"package/{path.name}"] = path.read_bytes()
    files["package/StructureDefinition-infant-feeding.json"] = json.dumps(
        {**FEEDING_PROFILE, "status": status}).encode()
    files["package/SearchParameter-feeding.json"] = json.dumps(SEARCH_PARAMETER).encode()
    files["package/example/Observation-skip-me.json"] = b'{"resourceType": "Observation"}'
    target = tmp_path / f"us-core-{version}.tgz"
    with tarfile.open(target, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return target


def test_read_package(tmp_path):
    package = read_package(_package(tmp_path))
    assert package.label == "hl7.fhir.us.core#6.1.0"
    kinds = sorted(r["resourceType"] for r in package.resources)
    assert kinds.count("StructureDefinition") == 7 and kinds.count("ValueSet") == 3
    assert kinds.count("SearchParameter") == 1 and "Observation" not in kinds


def test_not_a_package(tmp_path):
    path = tmp_path / "plain.tgz"
    path.write_bytes(b"not a tar")
    with pytest.raises(PackageError):
        read_package(path)
    with tarfile.open(path, "w:gz") as archive:
        archive.addfile(tarfile.TarInfo("readme.txt"), io.BytesIO(b""))
    with pytest.raises(PackageError, match="package.json"):
        read_package(path)


async def test_install_stores_and_enforces_the_profiles(app, client, db, tmp_path):
    services = app.state.services
    package = read_package(_package(tmp_path))
    stored = await install_package(services.storage.packages, package,
                                   services.validator.registry)
    assert stored == {"StructureDefinition": 7, "ValueSet": 3, "SearchParameter": 1}
    feeding = (await client.get("StructureDefinition/infant-feeding-observation")).json()
    assert any(e["id"] == "Observation.code.coding.system" and e.get("fixedUri")
               for e in feeding["snapshot"]["element"])
    assert (await client.get("SearchParameter/observation-feeding-method")).status_code == 200
    record = await db[INSTALLED_PACKAGES].find_one({"_id": "hl7.fhir.us.core#6.1.0"})
    assert len(record["resources"]) == 11

    await services.validator.store.refresh()
    example = json.loads((US_CORE / "examples" / "Observation-pediatric-bmi-example.json")
                         .read_text())
    assert (await client.post("Observation", json=example, headers=FHIR_JSON)).status_code \
        == 201
    example["valueQuantity"]["code"] = "kg/m2"
    refused = await client.post("Observation", json=example, headers=FHIR_JSON)
    assert refused.status_code == 400
    assert any(i["expression"] == ["Observation.valueQuantity.code"]
               for i in refused.json()["issue"])
    loinc_less = {"resourceType": "Observation", "status": "final",
                  "meta": {"profile": [FEEDING_PROFILE["url"]]},
                  "code": {"coding": [{"system": "http://snomed.info/sct", "code": "1"}]}}
    refused = await client.post("Observation", json=loinc_less, headers=FHIR_JSON)
    assert refused.status_code == 400


async def test_installing_again_updates_in_place(app, client, db, tmp_path):
    services = app.state.services
    for version, status in (("6.1.0", "draft"), ("6.1.1", "active")):
        package = read_package(_package(tmp_path, version, status))
        await install_package(services.storage.packages, package,
                              services.validator.registry)
    assert await db["StructureDefinition"].count_documents({}) == 7
    feeding = (await client.get("StructureDefinition/infant-feeding-observation")).json()
    assert feeding["status"] == "active" and feeding["meta"]["versionId"] == "2"
    unchanged = (await client.get("StructureDefinition/pediatric-bmi-for-age")).json()
    assert unchanged["meta"]["versionId"] == "1"
    assert await db[INSTALLED_PACKAGES].count_documents({}) == 2


@pytest.mark.slow
def test_the_command_line(tmp_path, mongodb_uri):
    database = f"ig_{os.getpid()}"
    env = {**os.environ, "MONGODB_URI": mongodb_uri, "FHIR_DATABASE": database}
    result = subprocess.run(
        [sys.executable, "-m", "fhir_server.cli", "ig", "install", str(_package(tmp_path))],
        env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Installed hl7.fhir.us.core#6.1.0: 1 SearchParameter, 7 StructureDefinition, " \
           "3 ValueSet" in result.stdout
    assert "$reindex" in result.stdout
    broken = tmp_path / "broken.tgz"
    broken.write_bytes(b"nope")
    result = subprocess.run(
        [sys.executable, "-m", "fhir_server.cli", "ig", "install", str(broken)],
        env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "not a gzipped tar" in result.stderr

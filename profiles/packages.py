"""Reading FHIR packages (the npm ``.tgz`` format implementation guides are published in).

https://confluence.hl7.org/display/FHIR/NPM+Package+Specification: a gzipped tar with
``package/package.json`` (name, version, dependencies) and one resource per JSON file in
``package/``; examples live in ``package/example/`` and are not taken.
"""

from __future__ import annotations

import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

__all__ = ["FhirPackage", "read_package", "PackageError", "INSTALLED_TYPES"]

INSTALLED_TYPES = ("StructureDefinition", "ValueSet", "CodeSystem", "ConceptMap",
                   "SearchParameter")
_MAX_MEMBER_BYTES = 64 << 20


class PackageError(ValueError):
    """The file is not a readable FHIR package."""


@dataclass
class FhirPackage:
    name: str
    version: str
    fhir_versions: list[str]
    dependencies: dict[str, str]
    resources: list[dict[str, Any]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.name}#{self.version}"


def _json(archive: tarfile.TarFile, member: tarfile.TarInfo) -> Any:
    if member.size > _MAX_MEMBER_BYTES:
        raise PackageError(f"{member.name} is larger than {_MAX_MEMBER_BYTES >> 20} MiB")
    handle = archive.extractfile(member)
    if handle is None:
        raise PackageError(f"{member.name} cannot be read")
    try:
        return orjson.loads(handle.read())
    except orjson.JSONDecodeError as error:
        raise PackageError(f"{member.name} is not valid JSON: {error}") from None


def read_package(path: Path) -> FhirPackage:
    """The package's manifest and its conformance resources of :data:`INSTALLED_TYPES`."""
    try:
        archive = tarfile.open(path, "r:gz")
    except (OSError, tarfile.TarError) as error:
        raise PackageError(f"{path} is not a gzipped tar file: {error}") from None
    with archive:
        members = {m.name.lstrip("./"): m for m in archive.getmembers() if m.isfile()}
        manifest_member = members.get("package/package.json")
        if manifest_member is None:
            raise PackageError(f"{path} has no package/package.json: not a FHIR package")
        manifest = _json(archive, manifest_member)
        if not isinstance(manifest, dict) or not manifest.get("name") or not manifest.get(
                "version"):
            raise PackageError("package/package.json needs a name and a version")
        package = FhirPackage(str(manifest["name"]), str(manifest["version"]),
                              list(manifest.get("fhirVersions", [])),
                              dict(manifest.get("dependencies", {})))
        for name, member in sorted(members.items()):
            if name.count("/") != 1 or not name.endswith(".json") or name.endswith(
                    "package.json") or name.endswith(".index.json"):
                continue
            resource = _json(archive, member)
            if isinstance(resource, dict) and resource.get("resourceType") in INSTALLED_TYPES:
                package.resources.append(resource)
    return package

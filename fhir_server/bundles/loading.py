"""Bulk loading of files: transaction/batch/collection Bundles (``.json``) and NDJSON.

Loading is idempotent: every create is turned into an update-as-create with a
deterministic id (the resource's own id, else the uuid or oid of its ``urn:`` fullUrl, else
one derived from the file's content and the entry's position), so loading a file twice, or
two files that share resources (Synthea repeats Organizations and Practitioners), creates
nothing twice; ``ifNoneExist`` creates keep their conditional semantics. Each Bundle is one
transaction through :mod:`fhir_server.bundles`; NDJSON is loaded in chunks of lines, each
one transaction. Finished files (and NDJSON chunks) are recorded in the ``load_progress``
collection, keyed by content digest, so an interrupted load resumes where it stopped.
"""

from __future__ import annotations

import gzip
import hashlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import clock
from ..access import SYSTEM
from ..errors import FhirError
from ..ids import ID_PATTERN
from ..interactions import Caller
from ..json_io import parse_json
from . import process_bundle

if TYPE_CHECKING:
    from ..services import Services
    from .load_patients import LoadPatients

__all__ = ["Loader", "FileReport", "discover", "count_resources"]
SUFFIXES = (".json", ".ndjson", ".json.gz", ".ndjson.gz")
_NAMESPACE = uuid.UUID("6f1c3c52-4b7e-4f0b-9d6c-0c5e1f3a8b21")


@dataclass
class FileReport:
    path: Path
    resources: int = 0
    skipped: bool = False
    problems: list[str] = field(default_factory=list)
    held: int = 0  # patients held for review (load_patients): load the file again later


def discover(paths: list[Path]) -> list[Path]:
    """The loadable files named by ``paths`` (folders searched recursively), sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(p for p in sorted(path.rglob("*")) if p.is_file()
                         and p.name.endswith(SUFFIXES))
        else:
            found.append(path)
    return found


def _read(path: Path) -> bytes:
    if path.name.endswith(".gz"):
        with gzip.open(path, "rb") as handle:
            return handle.read()
    return path.read_bytes()


def _is_ndjson(path: Path) -> bool:
    return path.name.removesuffix(".gz").endswith(".ndjson")


def count_resources(path: Path) -> int:
    """How many resources a file holds (entries or non-blank lines), for progress bars."""
    try:
        data = _read(path)
        if _is_ndjson(path):
            return sum(1 for line in data.splitlines() if line.strip())
        value = parse_json(data)
    except (OSError, FhirError):
        return 0
    if isinstance(value, dict) and value.get("resourceType") == "Bundle":
        entries = value.get("entry")
        return len(entries) if isinstance(entries, list) else 0
    return 1


def _deterministic_id(entry: dict[str, Any], digest: str, index: int) -> str:
    resource = entry.get("resource") or {}
    rid = resource.get("id")
    if isinstance(rid, str) and ID_PATTERN.match(rid):
        return rid
    full_url = entry.get("fullUrl")
    if isinstance(full_url, str):
        tail = full_url.removeprefix("urn:uuid:").removeprefix("urn:oid:")
        if tail != full_url and ID_PATTERN.match(tail):
            return tail
    return str(uuid.uuid5(_NAMESPACE, f"{digest}/{index}"))


def _as_update(entry: Any, digest: str, index: int) -> Any:
    """A create entry as an update-as-create with a deterministic id; others unchanged."""
    if not isinstance(entry, dict):
        return entry
    request = entry.get("request")
    resource = entry.get("resource")
    if isinstance(request, dict) and (request.get("method") != "POST" or "ifNoneExist" in request):
        return entry
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        return entry
    rid = _deterministic_id(entry, digest, index)
    return {**entry, "resource": {**resource, "id": rid},
            "request": {"method": "PUT", "url": f"{resource['resourceType']}/{rid}"}}


def idempotent_bundle(bundle: dict[str, Any], digest: str) -> dict[str, Any]:
    """The Bundle rewritten so that processing it again changes nothing."""
    kind = bundle.get("type")
    entries = bundle.get("entry") if isinstance(bundle.get("entry"), list) else []
    if kind in ("collection", "searchset"):
        kind = "transaction"
        entries = [{k: v for k, v in e.items() if k != "request"} if isinstance(e, dict) else e
                   for e in entries]
    return {**bundle, "type": kind,
            "entry": [_as_update(e, digest, i) for i, e in enumerate(entries)]}


class Loader:
    """Loads files into the store of ``services``, reporting progress per resource."""

    def __init__(self, services: Services, *, chunk_size: int = 500, force: bool = False,
                 progress: Callable[[int], None] = lambda n: None,
                 patients: LoadPatients | None = None) -> None:
        self.services = services
        self.patients = patients
        self.caller = Caller(services, SYSTEM)
        self.chunk_size = chunk_size
        self.force = force
        self.progress = progress
        self.done = services.storage.load_progress

    async def _finished(self, key: str) -> bool:
        return not self.force and await self.done.finished(key)

    async def _record(self, key: str, path: Path, resources: int) -> None:
        await self.done.record(key, str(path), resources, clock.now())

    async def load_file(self, path: Path) -> FileReport:
        report = FileReport(path)
        try:
            data = _read(path)
        except OSError as error:
            report.problems.append(f"cannot read: {error}")
            return report
        digest = hashlib.sha256(data).hexdigest()
        if await self._finished(digest):
            report.skipped = True
            self.progress(count_resources(path))
            return report
        if _is_ndjson(path):
            await self._load_ndjson(data, digest, report)
        else:
            await self._load_json(data, digest, report)
        if not report.held and not any(p.startswith("Bundle failed") for p in report.problems):
            await self._record(digest, path, report.resources)
        return report

    async def _load_json(self, data: bytes, digest: str, report: FileReport) -> None:
        try:
            value = parse_json(data)
        except FhirError as error:
            report.problems.append(f"Bundle failed: {error.message}")
            return
        if not isinstance(value, dict) or "resourceType" not in value:
            report.problems.append("Bundle failed: not a FHIR resource (no resourceType)")
            return
        if value["resourceType"] != "Bundle":
            value = {"resourceType": "Bundle", "type": "collection",
                     "entry": [{"resource": value}]}
        if value.get("type") not in ("transaction", "batch", "collection", "searchset"):
            report.problems.append(f"Bundle failed: Bundle.type '{value.get('type')}' is not "
                                   "loadable (transaction, batch, collection or searchset)")
            return
        size = len(value.get("entry") or [])
        bundle, _ = await self._resolved(idempotent_bundle(value, digest), report, partial=False)
        if bundle is None:
            self.progress(size)
            return
        await self._process(bundle, report, size, "entry")

    async def _process(self, bundle: dict[str, Any], report: FileReport, size: int,
                       unit: str = "entry", positions: list[int] | None = None) -> None:
        """Process one Bundle; ``positions`` maps entry indexes to NDJSON line numbers."""
        try:
            response = await process_bundle(self.caller, bundle)
        except FhirError as error:
            report.problems.append(f"Bundle failed: {error.message}")
            self.progress(size)
            return
        for index, item in enumerate(response["entry"]):
            status = item["response"]["status"]
            if status[:1] in ("4", "5"):
                issues = item["response"].get("outcome", {}).get("issue", [{}])
                where = positions[index] if positions else index
                diagnostics = issues[0].get("diagnostics", "").split(": ", 1)[-1]
                report.problems.append(f"{unit} {where}: {status}: {diagnostics}")
            else:
                report.resources += 1
        self.progress(size)

    async def _load_ndjson(self, data: bytes, digest: str, report: FileReport) -> None:
        for number, chunk in enumerate(_chunks(data.splitlines(), self.chunk_size)):
            key = f"{digest}#{self.chunk_size}:{number}"
            if await self._finished(key):
                self.progress(len(chunk))
                continue
            entries, positions = self._ndjson_entries(chunk, digest, report)
            held = report.held
            if entries:
                await self._load_chunk(entries, positions, report)
            if report.held == held:
                await self._record(key, Path(report.path), len(entries))

    def _ndjson_entries(self, chunk: list[tuple[int, bytes]], digest: str, report: FileReport
                        ) -> tuple[list[dict[str, Any]], list[int]]:
        entries, positions = [], []
        for line_number, line in chunk:
            try:
                resource = parse_json(line)
            except FhirError as error:
                report.problems.append(f"line {line_number}: {error.message}")
                self.progress(1)
                continue
            if not isinstance(resource, dict) or "resourceType" not in resource:
                report.problems.append(f"line {line_number}: not a FHIR resource "
                                       "(no resourceType)")
                self.progress(1)
                continue
            entries.append(_as_update({"resource": resource}, digest, line_number))
            positions.append(line_number)
        return entries, positions

    async def _load_chunk(self, entries: list[dict[str, Any]], positions: list[int],
                          report: FileReport) -> None:
        """One transaction for the chunk; if an entry fails, a batch finds which."""
        size = len(entries)
        bundle, kept = await self._resolved({"resourceType": "Bundle", "type": "transaction",
                                             "entry": entries}, report, partial=True)
        assert bundle is not None
        entries, positions = bundle["entry"], [positions[i] for i in kept]
        try:
            await process_bundle(self.caller, bundle)
        except FhirError:
            await self._process({**bundle, "type": "batch"}, report, size, "line", positions)
            return
        report.resources += len(entries)
        self.progress(size)

    async def _resolved(self, bundle: dict[str, Any], report: FileReport, *, partial: bool
                        ) -> tuple[dict[str, Any] | None, list[int]]:
        """The Bundle with its Patients resolved (:mod:`.load_patients`; None when it is
        held for review as a whole) and the indexes of the entries it kept."""
        if self.patients is None:
            return bundle, list(range(len(bundle.get("entry") or [])))
        resolved = await self.patients.resolve(bundle, str(report.path), partial=partial)
        report.held += len(resolved.held)
        report.problems.extend(resolved.held)
        return resolved.bundle, resolved.kept


def _chunks(lines: list[bytes], size: int) -> Iterator[list[tuple[int, bytes]]]:
    chunk: list[tuple[int, bytes]] = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            chunk.append((number, line))
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


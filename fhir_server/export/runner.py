"""Running one export job: each resource type streamed from MongoDB into its NDJSON file.

Every query is ``$and`` of: the level's scope (the Patient compartment of the requested
patients or Group members, for Patient and Group level), ``_since`` (``lastUpdated``
after it), and the ``_typeFilter`` queries of the type (ORed, compiled by the search
service); it runs through storage with the caller's access policy, rebuilt from the token
kept with the job, so the files hold what the caller may see now, masked where a Consent
masks it. Documents are read in ``_id`` order in batches; the lease is renewed and
progress recorded after each batch. With
``includeAssociatedData=LatestProvenanceResources`` the Provenance resources targeting
exported resources go to ``Provenance.ndjson``.
Bulk Data Access 2.0, "Bulk Data Export Operation Request Flow".
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from ..access import SYSTEM, AccessPolicy, Hints
from ..access.identity import AccessContext
from ..errors import FhirError, Issue, operation_outcome
from ..search.compartments import COMPARTMENTS_FIELD, in_compartment
from ..storage.export_files import NdjsonFile, OutputStore
from ..storage.export_jobs import JobStore
from ..subsetting import apply_elements
from .parameters import compartment_types

__all__ = ["ExportRun", "Cancelled", "BATCH"]

BATCH = 1000
ERROR_FILE = "error.ndjson"
_PROVENANCE = "LatestProvenanceResources"


class Cancelled(Exception):
    """The job was cancelled or taken over while running."""


def policy_of_job(services: Any, job: dict[str, Any]) -> AccessPolicy:
    """The access policy of who started the job (unrestricted with ``--auth off``)."""
    if job.get("access") is None:
        return SYSTEM
    purpose = job.get("owner", {}).get("purpose") or "TREAT"
    return services.access.for_token(AccessContext.from_document(job["access"]), purpose)


class ExportRun:
    def __init__(self, services: Any, jobs: JobStore, outputs: OutputStore,
                 job: dict[str, Any], worker: str) -> None:
        self.services = services
        self.queries = services.storage.queries
        self.jobs = jobs
        self.files = outputs
        self.job = job
        self.worker = worker
        patients = job.get("patients")
        self.policy = policy_of_job(services, job).narrowed(
            Hints(None if patients is None else frozenset(patients), content=False))
        self.exported = 0
        self.notes: list[str] = list(job.get("notes", []))
        self.provenance: NdjsonFile | None = None
        self.provenance_seen: set[str] = set()

    async def types(self) -> list[str]:
        existing = await self.queries.stored_types()
        requested = self.job.get("types")
        if requested is not None:
            return [t for t in requested if t in existing]
        if self.job["level"] == "system":
            return sorted(existing)
        return [t for t in compartment_types() if t in existing and t != "AuditEvent"]

    def _scope(self, resource_type: str) -> dict[str, Any] | None:
        """The level's filter; None when the type cannot be part of the export."""
        if self.job["level"] == "system":
            return {}
        if not in_compartment(resource_type, "Patient"):
            return None
        patients = self.job.get("patients")
        if patients is None:
            return {COMPARTMENTS_FIELD: {"$regex": "^Patient/"}}
        return {COMPARTMENTS_FIELD: {"$in": [f"Patient/{p}" for p in patients]}}

    async def query(self, resource_type: str) -> dict[str, Any] | None:
        scope = self._scope(resource_type)
        if scope is None:
            return None
        clauses = [scope]
        if self.job.get("since") is not None:
            clauses.append({"lastUpdated": {"$gt": self.job["since"]}})
        queries = self.job.get("type_filters", {}).get(resource_type, [])
        if queries:
            compiled = [await self.services.search.query_filter(
                self.policy, resource_type, parse_qsl(q, keep_blank_values=True))
                for q in queries]
            clauses.append(compiled[0] if len(compiled) == 1 else {"$or": compiled})
        kept = [c for c in clauses if c]
        return {"$and": kept} if kept else {}

    def _elements(self, resource_type: str) -> str:
        wanted = [e for e in self.job.get("elements", [])
                  if "." not in e or e.split(".", 1)[0] == resource_type]
        return ",".join(wanted)

    async def _progress(self, text: str, changes: dict[str, Any] | None = None) -> None:
        if not await self.jobs.renew(self.job["_id"], self.worker,
                                     {"progress": text, "exported": self.exported,
                                      **(changes or {})}):
            raise Cancelled

    async def export_type(self, resource_type: str) -> dict[str, Any] | None:
        query = await self.query(resource_type)
        if query is None:
            return None
        output = await self.files.open(self.job["_id"], f"{resource_type}.ndjson",
                                       resource_type)
        elements = self._elements(resource_type)
        policy = (self.policy.narrowed(Hints(self.policy.hints.patients, content=True))
                  if self.job.get("type_filters", {}).get(resource_type) else self.policy)
        try:
            async for batch in self.queries.batches(policy, resource_type, query, BATCH):
                for resource in batch:
                    await output.write(apply_elements(resource, elements)
                                       if elements else resource)
                self.exported += len(batch)
                await self._associated(resource_type, batch)
                await self._progress(f"exporting {resource_type}: {output.count} resources")
        except BaseException:
            await output.abort()
            raise
        await output.close()
        if output.count == 0:
            await self.files.delete(self.job["_id"], f"{resource_type}.ndjson")
            return None
        return {"type": resource_type, "name": f"{resource_type}.ndjson",
                "count": output.count}

    async def _associated(self, resource_type: str, batch: list[dict[str, Any]]) -> None:
        """The Provenance resources targeting this batch (LatestProvenanceResources)."""
        if _PROVENANCE not in self.job.get("associated", []) or resource_type == "Provenance":
            return
        if "Provenance" in (self.job.get("types") or []):
            return
        targets = [f"{resource_type}/{r['id']}" for r in batch]
        found = await self.queries.find(self.policy, "Provenance",
                                        {"resource.target.reference": {"$in": targets}})
        for provenance in found:
            resource = provenance.resource
            if resource["id"] in self.provenance_seen:
                continue
            self.provenance_seen.add(resource["id"])
            if self.provenance is None:
                self.provenance = await self.files.open(self.job["_id"], "Provenance.ndjson",
                                                        "Provenance")
            await self.provenance.write(resource)

    async def error_file(self, failures: list[str]) -> list[dict[str, Any]]:
        issues = [Issue("information", "informational", note) for note in self.notes]
        issues += [Issue("error", "exception", failure) for failure in failures]
        if not issues:
            return []
        output = await self.files.open(self.job["_id"], ERROR_FILE, "OperationOutcome")
        for issue in issues:
            await output.write(operation_outcome([issue]))
        await output.close()
        return [{"type": "OperationOutcome", "name": ERROR_FILE, "count": output.count}]

    async def run(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Export every type not yet done; returns (outputs, error outputs)."""
        outputs = list(self.job.get("outputs", []))
        done = list(self.job.get("done_types", []))
        if self.job.get("associated"):
            outputs, done = [], []
        self.exported = sum(o["count"] for o in outputs)
        failures: list[str] = []
        for resource_type in await self.types():
            if resource_type in done:
                continue
            try:
                output = await self.export_type(resource_type)
            except FhirError as error:
                failures.append(f"{resource_type}: {error.message}")
                output = None
            if output is not None:
                outputs.append(output)
            done.append(resource_type)
            await self._progress(f"exported {len(done)} resource types",
                                 {"outputs": outputs, "done_types": done})
        if self.provenance is not None:
            await self.provenance.close()
            outputs.append({"type": "Provenance", "name": "Provenance.ndjson",
                            "count": self.provenance.count})
        return outputs, await self.error_file(failures)

"""The AuditEvent of a completed export: who asked, which patients, what left the server
(one entity per output file: type, resource count, file), appended to the audit trail
(:mod:`fhir_server.storage.audit_chain`): one event per patient concerned, as for
requests. R4 auditevent.html; Bulk Data "Security Considerations".
"""

from __future__ import annotations

from typing import Any

from ..access import AccessRecord, Decided, audit_events

__all__ = ["record_export"]


async def record_export(services: Any, job: dict[str, Any],
                        outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    owner = job.get("owner", {})
    record = AccessRecord(
        subtype="operation", method=job.get("method", "GET"), url=job["request"],
        status=200, purpose=owner.get("purpose") or "TREAT",
        client=owner.get("client_id", "anonymous"), actor=owner.get("fhir_user"),
        token_id=owner.get("token_id"), query=job["request"],
        patients=set(job.get("patients") or []))
    record.decisions = [
        Decided("permit", f"bulk export {job['_id']}: {o['count']} {o['type']} resources "
                          f"in {o['name']}")
        for o in outputs]
    return await services.storage.audit.append_all(audit_events(record))

"""The batch interaction: independent entries (R4 http.html#transaction, batch).

Each entry is planned, validated and written on its own, in its own MongoDB transaction;
a failure gives that entry an OperationOutcome response and the others still commit.
Entries are processed in Bundle order; a batch has no links between its entries, so a
``urn:uuid:`` reference fails the entry that holds it.
"""

from __future__ import annotations

from typing import Any

from ..errors import FhirError
from ..interactions import Caller
from .entries import Entry, EntryError
from .execute import EntryResult, execute, prepare
from .plan import Plan, plan_target, resolve_conditional_references
from .reads import EntryReader
from .responses import error_entry, response_entry

__all__ = ["process_batch"]


async def _one(caller: Caller, entry: Entry, reader: EntryReader) -> EntryResult:
    if not entry.is_write:
        return await reader(entry)
    plan = Plan()
    uploads: list[str] = []
    try:
        await plan_target(caller, entry, plan)
        if entry.resource is not None:
            await resolve_conditional_references(caller, entry, plan)
            await prepare(caller, entry, plan, uploads)
        return await caller.resources.in_transaction(
            lambda session: execute(caller, entry, session))
    except BaseException:
        for file_id in uploads:
            await caller.services.storage.binary.delete(file_id)
        raise


async def process_batch(
    caller: Caller, entries: list[Entry | EntryError], reader: EntryReader,
    prefer: str = "minimal",
) -> dict[str, Any]:
    """Run a batch's entries and return the ``batch-response`` Bundle."""
    responses: list[dict[str, Any]] = []
    for entry in entries:
        if isinstance(entry, EntryError):
            responses.append(error_entry(entry))
            continue
        try:
            result = await _one(caller, entry, reader)
        except FhirError as error:
            responses.append(error_entry(EntryError.wrap(entry.index, entry.full_url, error)))
            continue
        responses.append(response_entry(result, caller.base, prefer))
    return {"resourceType": "Bundle", "type": "batch-response", "entry": responses}

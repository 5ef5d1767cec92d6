"""The transaction interaction: all entries or none (R4 http.html#transaction).

Planning, reference resolution, validation and Binary uploads happen first; then every
write runs in one MongoDB multi-document transaction, in the spec's order (DELETE, POST,
PUT/PATCH), retried as a whole on transient errors. Any failing entry aborts it and the
client gets that entry's error, naming the entry's index and fullUrl. GET entries run last,
once the writes are committed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pymongo.asynchronous.client_session import AsyncClientSession

from ..binary import BinaryStore
from ..errors import FhirError
from .entries import Entry, EntryError
from .execute import EntryResult, execute, prepare
from .plan import Plan, link_full_urls, plan_target, resolve_conditional_references
from .reads import EntryReader
from .responses import response_entry

if TYPE_CHECKING:
    from ..services import Services

__all__ = ["process_transaction", "processing_order"]

_ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 2, "GET": 3, "HEAD": 3}


def processing_order(entries: list[Entry]) -> list[Entry]:
    """DELETE, then POST, then PUT and PATCH, then GET; Bundle order within each."""
    return sorted(entries, key=lambda e: (_ORDER[e.method], e.index))


async def _each(entries: list[Entry], step: Any) -> None:
    for entry in entries:
        try:
            await step(entry)
        except EntryError:
            raise
        except FhirError as error:
            raise EntryError.wrap(entry.index, entry.full_url, error) from None


async def _plan(services: Services, entries: list[Entry], uploads: list[str]) -> Plan:
    plan = Plan()
    writes = [e for e in processing_order(entries) if e.is_write]
    await _each(writes, lambda e: plan_target(services, e, plan))

    async def link(entry: Entry) -> None:
        link_full_urls(entry, plan)

    await _each(entries, link)
    with_resources = [e for e in entries if e.resource is not None]
    await _each(with_resources, lambda e: resolve_conditional_references(services, e, plan))
    await _each(with_resources, lambda e: prepare(services, e, plan, uploads))
    return plan


async def process_transaction(
    services: Services, entries: list[Entry], reader: EntryReader, prefer: str = "minimal"
) -> dict[str, Any]:
    """Run a transaction's entries and return the ``transaction-response`` Bundle."""
    uploads: list[str] = []
    try:
        plan = await _plan(services, entries, uploads)
        writes = [e for e in processing_order(entries) if e.is_write]

        async def work(session: AsyncClientSession) -> dict[int, EntryResult]:
            results: dict[int, EntryResult] = {}
            await _each(writes, lambda e: _write(services, e, plan, session, results))
            return results

        results = await services.repository.in_transaction(work)
    except BaseException:
        store = BinaryStore(services.db)
        for file_id in uploads:
            await store.delete(file_id)
        raise

    for entry in entries:
        if not entry.is_write:
            results[entry.index] = await _read(reader, entry)
    return {
        "resourceType": "Bundle",
        "type": "transaction-response",
        "entry": [response_entry(results[e.index], services.base, prefer) for e in entries],
    }


async def _read(reader: EntryReader, entry: Entry) -> EntryResult:
    """A GET after the commit: its failure is reported in its entry, the writes stand."""
    try:
        return await reader(entry)
    except FhirError as error:
        return EntryResult(error.status, outcome=EntryError.wrap(
            entry.index, entry.full_url, error).outcome())


async def _write(services: Services, entry: Entry, plan: Plan, session: AsyncClientSession,
                 results: dict[int, EntryResult]) -> None:
    original = plan.aliases.get(entry.index)
    if original is not None:
        first = results[original]
        results[entry.index] = EntryResult(200, first.stored)
        return
    results[entry.index] = await execute(services, entry, session)

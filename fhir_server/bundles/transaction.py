"""The transaction interaction: all entries or none (R4 http.html#transaction).

Planning, reference resolution, validation and Binary uploads happen first; then every
write runs in one MongoDB multi-document transaction, in the spec's order (DELETE, POST,
PUT/PATCH), retried as a whole on transient errors. Creates (POSTs) and updates (PUTs by id
or conditional PUTs, also of ids never stored) are written in bulk: the current versions
read with one query per collection, the new ones written with one bulk write per
collection and one insert into ``history``. Any failing entry aborts the
transaction and the client gets that entry's error, naming the entry's index and fullUrl.
GET entries run last, once the writes are committed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import OperationFailure

from .. import clock
from ..errors import FhirError, PayloadTooLarge
from ..ids import check_id
from ..interactions import Caller, still_absent
from ..storage import Put, Version
from ..write_rules import after_write
from .entries import Entry, EntryError
from .execute import EntryResult, execute, prepare
from .plan import Plan, link_full_urls, plan_target, resolve_conditional_references
from .reads import EntryReader
from .responses import response_entry

__all__ = ["process_transaction", "processing_order", "too_long"]

# MongoDB codes of a transaction that outlived transactionLifetimeLimitSeconds (60 s by
# default): ExceededTimeLimit, NoSuchTransaction (after with_transaction's retries),
# TransactionExceededLifetimeLimitSeconds.
_TOO_LONG = {50, 251, 290}
_ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 2, "GET": 3, "HEAD": 3}
Results = dict[int, EntryResult]


def processing_order(entries: list[Entry]) -> list[Entry]:
    """DELETE, then POST, then PUT and PATCH, then GET; Bundle order within each."""
    return sorted(entries, key=lambda e: (_ORDER[e.method], e.index))


async def _each(entries: list[Entry], step: Callable[[Entry], Awaitable[Any]]) -> None:
    for entry in entries:
        try:
            await step(entry)
        except EntryError:
            raise
        except FhirError as error:
            raise EntryError.wrap(entry.index, entry.full_url, error) from None


async def _plan(caller: Caller, entries: list[Entry], uploads: list[str]) -> Plan:
    plan = Plan()
    writes = [e for e in processing_order(entries) if e.is_write]
    await _each(writes, lambda e: plan_target(caller, e, plan))

    async def link(entry: Entry) -> None:
        link_full_urls(entry, plan)

    await _each(entries, link)
    with_resources = [e for e in entries if e.resource is not None]
    await _each(with_resources, lambda e: resolve_conditional_references(caller, e, plan))
    await _each(with_resources, lambda e: prepare(caller, e, plan, uploads))
    return plan


async def process_transaction(
    caller: Caller, entries: list[Entry], reader: EntryReader, prefer: str = "minimal"
) -> dict[str, Any]:
    """Run a transaction's entries and return the ``transaction-response`` Bundle."""
    uploads: list[str] = []
    try:
        plan = await _plan(caller, entries, uploads)
        writes = [e for e in processing_order(entries) if e.is_write]
        try:
            results = await caller.resources.in_transaction(
                lambda session: _write_all(caller, writes, plan, session))
        except OperationFailure as error:
            explained = too_long(error, len(writes))
            if explained is None:
                raise
            raise explained from error
    except BaseException:
        for file_id in uploads:
            await caller.services.storage.binary.delete(file_id)
        raise
    for entry in entries:
        if not entry.is_write:
            results[entry.index] = await _read(reader, entry)
    return {
        "resourceType": "Bundle",
        "type": "transaction-response",
        "entry": [response_entry(results[e.index], caller.base, prefer) for e in entries],
    }


def too_long(error: OperationFailure, writes: int) -> PayloadTooLarge | None:
    """A transaction the database gave up on for its duration: 413 explaining the limit."""
    if error.code not in _TOO_LONG:
        return None
    return PayloadTooLarge(
        f"The transaction's {writes} writes did not finish within the time MongoDB allows "
        "one transaction (transactionLifetimeLimitSeconds, 60 s by default); nothing was "
        "written. Split the Bundle into smaller transactions."
    )


async def _write_all(caller: Caller, writes: list[Entry], plan: Plan,
                     session: AsyncClientSession) -> Results:
    results: Results = {}

    async def one(entry: Entry) -> None:
        original = plan.aliases.get(entry.index)
        if original is not None:
            results[entry.index] = EntryResult(200, results[original].stored)
        else:
            results[entry.index] = await execute(caller, entry, session)

    posts = [e for e in writes if e.method == "POST"]
    fresh = [e for e in posts if e.existing is None and e.index not in plan.aliases]
    updates = [e for e in writes if e.method in ("PUT", "PATCH")]
    await _each([e for e in writes if e.method == "DELETE"], one)
    await _each([e for e in fresh if e.if_none_exist is not None], lambda e: still_absent(
        caller, e.resource_type or "", e.if_none_exist or [], session))
    await _create_all(caller, fresh, "POST", session, results)
    await _each([e for e in posts if e.index not in results], one)
    await _update_all(caller, [e for e in updates if e.method == "PUT"
                               and e.if_none_match is None], session, results)
    await _each([e for e in updates if e.index not in results], one)
    return results


async def _update_all(caller: Caller, entries: list[Entry], session: AsyncClientSession,
                      results: Results) -> None:
    """PUTs (update, or update-as-create), with their ``ifMatch``: the current versions
    read with one query per collection, the new ones written in bulk."""
    if not entries:
        return
    resources = caller.resources
    current = await resources.current_many(
        [(e.resource_type or "", e.target_id or "") for e in entries], session)
    moment = clock.now()
    versions: list[Version] = []
    written: list[Entry] = []

    async def planned(entry: Entry) -> None:
        assert entry.resource_type and entry.target_id and entry.resource is not None
        check_id(entry.target_id)
        version = await resources.plan_update(
            caller.policy, Put(entry.resource, entry.target_id, entry.if_match),
            current[(entry.resource_type, entry.target_id)], moment, session=session)
        if isinstance(version, Version):
            versions.append(version)
            written.append(entry)
            version = version.result()
        results[entry.index] = EntryResult(201 if version.created else 200, version)

    await _each(entries, planned)
    await resources.write_versions(versions, session)

    async def rules(entry: Entry) -> None:  # the write rules, as for a single update
        stored = results[entry.index].stored
        assert stored is not None
        await after_write(caller, stored, session)

    await _each(written, rules)


async def _create_all(caller: Caller, entries: list[Entry], method: str,
                      session: AsyncClientSession, results: Results) -> None:
    async def allowed(entry: Entry) -> None:
        assert entry.resource_type and entry.resource is not None
        await caller.policy.check_write(entry.resource_type, None, entry.resource)

    await _each(entries, allowed)
    created = await caller.resources.create_many(
        caller.policy, [(e.resource, e.target_id) for e in entries if e.resource and e.target_id],
        method=method, session=session)
    for entry, stored in zip(entries, created, strict=True):
        results[entry.index] = EntryResult(201, stored)

    stored_by_index = {e.index: stored for e, stored in zip(entries, created, strict=True)}

    async def rules(entry: Entry) -> None:  # the write rules, as for a single create
        await after_write(caller, stored_by_index[entry.index], session)

    await _each(entries, rules)


async def _read(reader: EntryReader, entry: Entry) -> EntryResult:
    """A GET after the commit: its failure is reported in its entry, the writes stand."""
    try:
        return await reader(entry)
    except FhirError as error:
        return EntryResult(error.status, outcome=EntryError.wrap(
            entry.index, entry.full_url, error).outcome())

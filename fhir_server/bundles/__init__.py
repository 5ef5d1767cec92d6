"""Transaction and batch Bundles as an interaction independent of HTTP.

The REST layer (``POST [base]``), the bulk loader and the HL7 v2 importer all call
:func:`process_bundle` with their caller (its access policy); each entry runs the same
interaction (:mod:`fhir_server.interactions`) as the REST request it stands for. Only how
GET entries are read differs (``reader``).
"""

from __future__ import annotations

from typing import Any

from ..interactions import Caller
from .batch import process_batch
from .entries import Entry, EntryError, parse_bundle
from .reads import EntryReader, repository_reader
from .transaction import process_transaction

__all__ = ["process_bundle", "EntryError", "EntryReader", "Entry", "repository_reader"]


async def process_bundle(
    caller: Caller, bundle: Any, *, reader: EntryReader | None = None,
    prefer: str = "minimal",
) -> dict[str, Any]:
    """Process a ``transaction`` or ``batch`` Bundle; returns the response Bundle.

    ``prefer`` is the ``return`` preference for written resources: ``minimal``,
    ``representation`` or ``OperationOutcome``. A failed transaction raises
    :class:`EntryError` (or another FhirError for a malformed Bundle).
    """
    settings = caller.services.settings
    kind, entries = parse_bundle(bundle, caller.base, settings.max_bundle_entries)
    reader = reader or repository_reader(caller)
    if kind == "transaction":
        return await process_transaction(caller, entries, reader, prefer)
    return await process_batch(caller, entries, reader, prefer)

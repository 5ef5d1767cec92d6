"""Entries of a ``transaction-response`` / ``batch-response`` (R4 bundle.html, entry.response).

Each response entry carries ``status`` (code and phrase), and for a written resource its
``location`` (``Type/id/_history/vid``), ``etag`` and ``lastModified``. The resource itself
comes back when the client asks with ``Prefer: return=representation`` (always for GET),
an OperationOutcome with ``return=OperationOutcome`` and for every failed batch entry.
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any

from .. import clock
from ..errors import FhirError, Issue, operation_outcome
from ..storage.binary import metadata_of
from .execute import EntryResult

__all__ = ["response_entry", "error_entry", "status_line"]


def status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _client_form(resource: dict[str, Any]) -> dict[str, Any]:
    return metadata_of(resource) if resource.get("resourceType") == "Binary" else resource


def response_entry(result: EntryResult, base: str, prefer: str) -> dict[str, Any]:
    response: dict[str, Any] = {"status": status_line(result.status)}
    entry: dict[str, Any] = {}
    stored = result.stored
    if stored is not None:
        where = f"{stored.resource_type}/{stored.id}"
        if not stored.deleted:
            entry["fullUrl"] = f"{base}/{where}"
        response["location"] = f"{where}/_history/{stored.vid}"
        response["etag"] = stored.etag
        response["lastModified"] = clock.to_instant(stored.last_updated)
        if stored.resource is not None and prefer == "representation":
            entry["resource"] = _client_form(stored.resource)
    _copy_read_headers(result, response)
    if result.resource is not None:
        entry["resource"] = _client_form(result.resource)
    if result.outcome is not None and (prefer == "OperationOutcome" or stored is None):
        response["outcome"] = result.outcome
    elif prefer == "OperationOutcome" and stored is not None:
        verb = "created" if stored.created else "updated"
        response["outcome"] = operation_outcome([Issue(
            "information", "informational",
            f"{stored.resource_type}/{stored.id} {verb}, version {stored.vid}")])
    entry["response"] = response
    return entry


def _copy_read_headers(result: EntryResult, response: dict[str, Any]) -> None:
    headers = {k.lower(): v for k, v in result.headers.items()}
    if "location" in headers:
        response["location"] = headers["location"]
    if "etag" in headers:
        response["etag"] = headers["etag"]
    if "last-modified" in headers:
        try:
            response["lastModified"] = clock.to_instant(
                parsedate_to_datetime(headers["last-modified"]))
        except (TypeError, ValueError):
            pass


def error_entry(error: FhirError) -> dict[str, Any]:
    return {"response": {"status": status_line(error.status), "outcome": error.outcome()}}

"""GET entries of a Bundle, run after the writes (R4 http.html#trules, last step).

Over HTTP the REST layer supplies a reader that routes the entry's URL like any request
(search, history, operations). Without HTTP (the loader, HL7 v2), :func:`repository_reader`
answers read and vread, with ``ifNoneMatch`` and ``ifModifiedSince``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from email.utils import format_datetime, parsedate_to_datetime

from .. import interactions
from ..errors import InvalidRequest
from ..interactions import Caller
from ..storage import StoredResource
from .entries import Entry, parse_etag
from .execute import EntryResult

__all__ = ["EntryReader", "repository_reader", "not_modified"]

EntryReader = Callable[[Entry], Awaitable[EntryResult]]


def not_modified(entry: Entry, stored: StoredResource) -> bool:
    """``ifNoneMatch`` / ``ifModifiedSince`` of a GET entry say the client's copy is current."""
    if entry.if_none_match is not None:
        tags = [t.strip() for t in entry.if_none_match.split(",")]
        return "*" in tags or stored.vid in {parse_etag(t, "ifNoneMatch") for t in tags
                                             if t != "*"}
    if entry.if_modified_since is not None:
        try:
            moment = parsedate_to_datetime(entry.if_modified_since)
        except (TypeError, ValueError):
            return False
        return stored.last_updated.replace(microsecond=0) <= moment
    return False


def repository_reader(caller: Caller) -> EntryReader:
    async def read(entry: Entry) -> EntryResult:
        if entry.resource_type is None or entry.id is None or entry.query:
            raise InvalidRequest("Only read and vread GET entries are supported here")
        if entry.version is not None:
            if not entry.version.isdigit():
                raise InvalidRequest(f"Version id must be a number, not '{entry.version}'")
            stored = await interactions.vread(caller, entry.resource_type, entry.id,
                                              int(entry.version))
        else:
            stored = await interactions.read(caller, entry.resource_type, entry.id)
        headers = {"ETag": stored.etag,
                   "Last-Modified": format_datetime(stored.last_updated, usegmt=True)}
        if not_modified(entry, stored):
            return EntryResult(304, headers=headers)
        return EntryResult(200, resource=stored.resource, headers=headers)

    return read

"""Reading the entries of a transaction or batch Bundle (R4 http.html#transaction).

Each ``Bundle.entry`` becomes an :class:`Entry`: its request (method, URL split into type,
id, version or search query) and its conditional headers (``ifNoneExist``, ``ifMatch``,
``ifNoneMatch``, ``ifModifiedSince``), checked before anything is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from profiles.definitions import resource_types

from ..errors import FhirError, InvalidRequest, InvalidResource, Issue, PayloadTooLarge
from ..ids import ID_PATTERN

__all__ = ["Entry", "EntryError", "parse_bundle", "parse_query", "parse_etag"]

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
_ETAG = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')
_IGNORED_PARAMS = ("_format", "_pretty")


@dataclass(eq=False)
class Entry:
    """One entry's request, as the client wrote it, plus what planning decides."""

    index: int
    full_url: str | None
    method: str
    url: str
    resource_type: str | None
    id: str | None = None
    version: str | None = None
    query: list[tuple[str, str]] | None = None
    resource: dict[str, Any] | None = None
    if_none_exist: list[tuple[str, str]] | None = None
    if_match: int | None = None
    if_none_match: str | None = None
    if_modified_since: str | None = None
    target_id: str | None = None  # decided by planning: the id this entry writes
    existing: Any = None  # a StoredResource matched by ifNoneExist: nothing to write

    @property
    def is_write(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH", "DELETE")


@dataclass
class EntryError(FhirError):
    """A failure of one entry: the cause, with the entry's index and fullUrl."""

    index: int = 0
    full_url: str | None = None
    cause: FhirError | None = None

    @classmethod
    def wrap(cls, entry_index: int, full_url: str | None, cause: FhirError) -> EntryError:
        where = f"Bundle.entry[{entry_index}]" + (f" ({full_url})" if full_url else "")
        issues = [
            Issue(issue.severity, issue.code, f"{where}: {issue.diagnostics}",
                  tuple(_entry_path(entry_index, e) for e in issue.expression)
                  or (f"Bundle.entry[{entry_index}]",))
            for issue in cause.issues
        ]
        error = cls(f"{where}: {cause.message}", issues, dict(cause.headers),
                    index=entry_index, full_url=full_url, cause=cause)
        error.status = cause.status
        error.code = cause.code
        return error


def _entry_path(index: int, expression: str) -> str:
    if expression.startswith("Bundle."):
        return expression
    return f"Bundle.entry[{index}].resource.{expression}"


def parse_etag(value: Any, name: str) -> int:
    match = _ETAG.match(value) if isinstance(value, str) else None
    if not match:
        raise InvalidRequest(f"request.{name} must be a version ETag such as W/\"3\", "
                             f"not '{str(value)[:80]}'")
    return int(match.group(1))


def parse_query(query: str) -> list[tuple[str, str]]:
    """Search parameters of a conditional URL (``Type?a=b`` or ``a=b``), in order."""
    if "?" in query:
        query = query.split("?", 1)[1]
    try:
        params = parse_qsl(query, keep_blank_values=True)
    except ValueError as exc:
        raise InvalidRequest(f"Malformed search query '{query[:200]}': {exc}") from None
    return [(k, v) for k, v in params if k not in _IGNORED_PARAMS]


def _relative(url: str, base: str) -> str:
    """The request URL relative to the server base; absolute URLs elsewhere are refused."""
    if url.startswith(base + "/"):
        return url[len(base) + 1:]
    if urlsplit(url).scheme:
        raise InvalidRequest(f"request.url '{url[:200]}' is not on this server ({base})")
    return url.lstrip("/")


def _known_type(name: str) -> str:
    if name not in resource_types():
        raise InvalidRequest(f"Unknown resource type '{name[:80]}' in request.url")
    return name


def _parse_url(entry: Entry, base: str) -> None:
    path, _, query = _relative(entry.url, base).partition("?")
    segments = [s for s in path.split("/") if s]
    if not segments:
        raise InvalidRequest("request.url names no resource type")
    if entry.method in ("GET", "HEAD"):
        _parse_read_url(entry, segments, query)
        return
    entry.resource_type = _known_type(segments[0])
    if len(segments) == 2 and entry.method != "POST":
        if query:
            raise InvalidRequest("request.url has both an id and a search query")
        if not ID_PATTERN.match(segments[1]):
            raise InvalidRequest(f"'{segments[1][:80]}' is not a valid FHIR id")
        entry.id = segments[1]
    elif len(segments) != 1:
        raise InvalidRequest(f"request.url '{entry.url[:200]}' is not a valid {entry.method} "
                             "URL")
    elif entry.method != "POST":
        entry.query = parse_query(query)
        if not entry.query:
            raise InvalidRequest(f"A {entry.method} entry needs an id or search parameters "
                                 "in request.url")


def _parse_read_url(entry: Entry, segments: list[str], query: str) -> None:
    """GET entries may name any readable URL; only the type is checked here."""
    if segments[0] not in ("metadata", "_history", "_search") and not segments[0].startswith(
        "$"
    ):
        entry.resource_type = _known_type(segments[0])
        if len(segments) >= 2 and not segments[1].startswith(("_", "$")):
            entry.id = segments[1]
        if len(segments) == 4 and segments[2] == "_history":
            entry.version = segments[3]
    entry.query = parse_query(query)


def _check_resource(entry: Entry) -> None:
    resource = entry.resource
    if entry.method in ("GET", "HEAD", "DELETE"):
        if resource is not None:
            raise InvalidRequest(f"A {entry.method} entry must not carry a resource")
        return
    if not isinstance(resource, dict) or "resourceType" not in resource:
        raise InvalidResource(f"A {entry.method} entry needs a resource with a resourceType")
    if entry.method == "PATCH":
        if resource["resourceType"] not in ("Binary", "Parameters"):
            raise InvalidResource("A PATCH entry carries a Binary (JSON Patch) or Parameters "
                                  "(FHIRPath Patch) resource")
        return
    if resource["resourceType"] != entry.resource_type:
        raise InvalidResource(f"resourceType '{resource['resourceType']}' does not match "
                              f"request.url type '{entry.resource_type}'")
    if entry.method == "PUT" and entry.id is not None and resource.get("id") != entry.id:
        raise InvalidResource(f"The resource id '{resource.get('id')}' does not match the id "
                              f"in request.url ('{entry.id}')")


def _parse_entry(index: int, raw: Any, base: str) -> Entry:
    if not isinstance(raw, dict):
        raise InvalidRequest("A Bundle entry must be a JSON object")
    request = raw.get("request")
    if not isinstance(request, dict):
        raise InvalidRequest("The entry has no request (method and url)")
    method, url = request.get("method"), request.get("url")
    if method not in METHODS:
        raise InvalidRequest(f"request.method must be one of {', '.join(METHODS)}, "
                             f"not '{str(method)[:20]}'")
    if not isinstance(url, str) or not url.strip():
        raise InvalidRequest("request.url is missing")
    full_url = raw.get("fullUrl")
    if full_url is not None and not isinstance(full_url, str):
        raise InvalidRequest("fullUrl must be a string")
    entry = Entry(index, full_url, method, url.strip(), None, resource=raw.get("resource"))
    _parse_url(entry, base)
    _check_resource(entry)
    _parse_conditions(entry, request)
    return entry


def _parse_conditions(entry: Entry, request: dict[str, Any]) -> None:
    if_none_exist = request.get("ifNoneExist")
    if if_none_exist is not None:
        if entry.method != "POST" or not isinstance(if_none_exist, str):
            raise InvalidRequest("ifNoneExist is a search query, allowed on POST entries only")
        entry.if_none_exist = parse_query(if_none_exist)
        if not entry.if_none_exist:
            raise InvalidRequest("ifNoneExist has no search parameters")
    if "ifMatch" in request:
        entry.if_match = parse_etag(request["ifMatch"], "ifMatch")
    for key, attribute in (("ifNoneMatch", "if_none_match"),
                           ("ifModifiedSince", "if_modified_since")):
        value = request.get(key)
        if value is not None and not isinstance(value, str):
            raise InvalidRequest(f"request.{key} must be a string")
        setattr(entry, attribute, value)


def parse_bundle(bundle: Any, base: str, max_entries: int) -> tuple[str, list[Entry]]:
    """The Bundle type (``transaction`` or ``batch``) and its entries.

    A transaction fails as a whole on the first bad entry; a batch gets back the entries it
    could parse and an :class:`EntryError` for each one it could not.
    """
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise InvalidResource("POST to the base takes a Bundle resource")
    kind = bundle.get("type")
    if kind not in ("transaction", "batch"):
        raise InvalidRequest(f"Bundle.type must be 'transaction' or 'batch' to be processed, "
                             f"not '{str(kind)[:40]}'")
    raw_entries = bundle.get("entry", [])
    if not isinstance(raw_entries, list):
        raise InvalidResource("Bundle.entry must be an array")
    if len(raw_entries) > max_entries:
        raise PayloadTooLarge(
            f"The {kind} has {len(raw_entries)} entries; this server accepts at most "
            f"{max_entries} per Bundle (setting FHIR_MAX_BUNDLE_ENTRIES). Split it into "
            "several Bundles."
        )
    entries: list[Any] = []
    for index, raw in enumerate(raw_entries):
        try:
            entries.append(_parse_entry(index, raw, base))
        except FhirError as error:
            full_url = raw.get("fullUrl") if isinstance(raw, dict) else None
            wrapped = EntryError.wrap(index, full_url if isinstance(full_url, str) else None,
                                      error)
            if kind == "transaction":
                raise wrapped from None
            entries.append(wrapped)
    return kind, entries

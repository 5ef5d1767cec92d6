"""The kick-off request of a bulk export, checked (Bulk Data Access 2.0, "Bulk Data Kick-off
Request": query parameters, or a Parameters body for POST).

``_outputFormat``, ``_since``, ``_type``, ``_typeFilter``, ``_elements``, ``patient`` and
``includeAssociatedData`` are understood. What the server cannot honour is an error
(400) unless the client sent ``Prefer: handling=lenient``; then it is skipped and reported
as an informational issue in the job's error file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from profiles.definitions import resource_types

from ..dates import parse_instant
from ..errors import InvalidRequest
from ..ids import check_id
from ..search.compartments import compartment_definitions

__all__ = ["ExportParameters", "parse_parameters", "OUTPUT_FORMATS", "compartment_types",
           "NDJSON"]

NDJSON = "application/fhir+ndjson"
OUTPUT_FORMATS = {NDJSON, "application/ndjson", "ndjson"}
ASSOCIATED_DATA = {"LatestProvenanceResources"}
_IGNORED = {"_format", "_pretty"}


def compartment_types() -> list[str]:
    """Patient, then the other Patient compartment types (the access log, AuditEvent,
    only when asked for with ``_type``), as ``$everything``."""
    others = sorted(t for t in compartment_definitions()["Patient"] if t != "Patient")
    return ["Patient", *others]


@dataclass
class ExportParameters:
    """One kick-off's parameters. ``type_filters``: type -> search query strings (ORed)."""

    level: str
    since: datetime | None = None
    types: list[str] | None = None
    type_filters: dict[str, list[str]] = field(default_factory=dict)
    elements: list[str] = field(default_factory=list)
    patients: list[str] | None = None
    associated: list[str] = field(default_factory=list)
    lenient: bool = False
    notes: list[str] = field(default_factory=list)

    def refuse(self, message: str) -> None:
        """An unsupported request: 400, or a note in the error file when lenient."""
        if not self.lenient:
            raise InvalidRequest(message)
        self.notes.append(message)


def _value(raw: Any) -> str:
    """A query value, or the value of a ``Parameters.parameter``."""
    if not isinstance(raw, dict):
        return str(raw)
    reference = raw.get("valueReference")
    if isinstance(reference, dict):
        return str(reference.get("reference", ""))
    for key, value in raw.items():
        if key.startswith("value") and isinstance(value, str | int | bool):
            return str(value)
    raise InvalidRequest(f"Parameter '{str(raw.get('name'))[:60]}' has no usable value")


def _type_filter(params: ExportParameters, value: str) -> None:
    resource_type, sep, query = value.partition("?")
    if not sep or not query or resource_type not in resource_types():
        params.refuse(f"_typeFilter '{value[:100]}' is not '<ResourceType>?<search query>'")
        return
    names = [name.split(":")[0] for name, _ in parse_qsl(query, keep_blank_values=True)]
    if not names or any(n.startswith("_") and n not in ("_id", "_lastUpdated", "_tag",
                                                          "_profile", "_security")
                        for n in names):
        params.refuse(f"_typeFilter '{value[:100]}' may hold search parameters only "
                      "(no _include, _sort, _count, ...)")
        return
    params.type_filters.setdefault(resource_type, []).append(query)


def _read(params: ExportParameters, name: str, value: str) -> None:
    if name == "_outputFormat":
        if value not in OUTPUT_FORMATS:
            params.refuse(f"_outputFormat '{value[:60]}' is not supported; use {NDJSON}")
    elif name == "_since":
        params.since = parse_instant(value, "_since")
    elif name == "_type":
        found = [t.strip() for t in value.split(",") if t.strip()]
        params.types = (params.types or []) + found
    elif name == "_typeFilter":
        for item in value.split(",") if "?" not in value else [value]:
            _type_filter(params, item)
    elif name == "_elements":
        params.elements += [e.strip() for e in value.split(",") if e.strip()]
    elif name == "patient":
        if params.level == "system":
            params.refuse("The patient parameter is for Patient and Group level exports")
            return
        found = [check_id(p.strip().removeprefix("Patient/")) for p in value.split(",")
                 if p.strip()]
        params.patients = (params.patients or []) + found
    elif name == "includeAssociatedData":
        for item in (v.strip() for v in value.split(",") if v.strip()):
            if item in ASSOCIATED_DATA:
                params.associated.append(item)
            else:
                params.refuse(f"includeAssociatedData '{item[:60]}' is not supported "
                              f"(supported: {', '.join(sorted(ASSOCIATED_DATA))})")
    elif name not in _IGNORED:
        params.refuse(f"Unknown $export parameter '{name[:60]}'")


def _check_types(params: ExportParameters) -> None:
    if params.types is None:
        return
    allowed = set(compartment_types()) if params.level != "system" else resource_types()
    kept = []
    for resource_type in dict.fromkeys(params.types):
        if resource_type not in resource_types():
            params.refuse(f"Unknown resource type '{resource_type[:60]}' in _type")
        elif resource_type not in allowed:
            params.refuse(f"{resource_type} is not in the Patient compartment, so a "
                          f"{params.level} level export cannot include it")
        else:
            kept.append(resource_type)
    params.types = kept


def parse_parameters(level: str, parameters: list[tuple[str, Any]], lenient: bool
                     ) -> ExportParameters:
    """The checked parameters of a kick-off at ``level`` (system, patient or group)."""
    params = ExportParameters(level, lenient=lenient)
    for name, raw in parameters:
        _read(params, name, _value(raw))
    _check_types(params)
    if params.types is not None:
        wanted = set(params.types)
        params.type_filters = {t: q for t, q in params.type_filters.items() if t in wanted}
    return params

"""Search result parameters: ``_count``, ``_sort``, ``_include``/``_revinclude``,
``_summary``, ``_elements``, ``_total``, ``_contained`` and the paging ``_cursor``.

https://hl7.org/fhir/R4/search.html#return
"""

from __future__ import annotations

from dataclasses import dataclass, field

from profiles.definitions import resource_types

from ..errors import InvalidRequest
from ..subsetting import SUMMARY_MODES
from .definitions import Registry, SearchParameter
from .problems import unknown_modifier, unknown_parameter

__all__ = ["Include", "SortKey", "ResultParameters", "parse_result_parameter",
           "CURSOR_PARAMETER"]

CURSOR_PARAMETER = "_cursor"
_TOTALS = ("none", "estimate", "accurate")
_TOTAL_METHODS = {"count": "accurate", "estimate": "estimate"}
_UNSORTABLE = frozenset({"composite", "special"})


@dataclass(frozen=True)
class Include:
    """``_include=Source:param[:Target]``; ``parameter`` None means ``*``."""

    source_type: str | None
    parameter: SearchParameter | None
    target: str | None
    iterate: bool


@dataclass(frozen=True)
class SortKey:
    code: str
    descending: bool


@dataclass
class ResultParameters:
    count: int
    sort: list[SortKey] = field(default_factory=list)
    includes: list[Include] = field(default_factory=list)
    revincludes: list[Include] = field(default_factory=list)
    summary: str | None = None
    elements: str | None = None
    total: str | None = None
    cursor: str | None = None


def _count(raw: str, max_count: int) -> int:
    if not raw.isdigit():
        raise InvalidRequest(f"_count must be a non-negative integer, not '{raw[:40]}'")
    return min(int(raw), max_count)


def _sort(raw: str, registry: Registry, types: list[str]) -> list[SortKey]:
    keys = []
    for item in raw.split(","):
        item = item.strip()
        descending = item.startswith("-")
        code = item.lstrip("-")
        if not code:
            raise InvalidRequest(f"Invalid _sort '{raw[:80]}'")
        for resource_type in types:
            parameter = registry.get(resource_type, code)
            if parameter is None or not parameter.supported or parameter.type in _UNSORTABLE:
                raise unknown_parameter(resource_type, code, registry)
        keys.append(SortKey(code, descending))
    return keys


def _include(name: str, raw: str, registry: Registry) -> Include:
    _, _, modifier = name.partition(":")
    if modifier not in ("", "iterate", "recurse", "recursive"):
        raise InvalidRequest(f"Unknown modifier on {name[:60]}: use :iterate")
    iterate = modifier in ("iterate", "recurse", "recursive")
    if raw == "*":
        return Include(None, None, None, iterate)
    parts = raw.split(":")
    if len(parts) not in (2, 3) or parts[0] not in resource_types():
        raise InvalidRequest(f"Invalid {name[:60]} '{raw[:100]}': use "
                             "[type]:[search parameter][:target type] or *")
    source_type, code = parts[0], parts[1]
    parameter = registry.get(source_type, code)
    if parameter is None or parameter.type != "reference":
        raise unknown_parameter(source_type, code, registry)
    target = parts[2] if len(parts) == 3 else None
    if target is not None and target not in (parameter.target or resource_types()):
        raise unknown_modifier(parameter, target, list(parameter.target))
    return Include(source_type, parameter, target, iterate)


def parse_result_parameter(
    results: ResultParameters, name: str, raw: str, registry: Registry, types: list[str],
    max_count: int,
) -> bool:
    """Record one result parameter; True when it belongs in the ``self`` link."""
    base = name.partition(":")[0]
    if base == "_count":
        results.count = _count(raw, max_count)
    elif base == "_sort":
        results.sort = _sort(raw, registry, types)
    elif base == "_include":
        results.includes.append(_include(name, raw, registry))
    elif base == "_revinclude":
        results.revincludes.append(_include(name, raw, registry))
    elif base == "_summary":
        if raw not in SUMMARY_MODES:
            raise InvalidRequest(f"Invalid _summary '{raw[:40]}': use one of "
                                 f"{', '.join(sorted(SUMMARY_MODES))}")
        results.summary = raw
    elif base == "_elements":
        results.elements = raw
    elif base == "_total":
        if raw not in _TOTALS:
            raise InvalidRequest(f"Invalid _total '{raw[:40]}': use none, estimate or accurate")
        results.total = raw
    elif base == "_totalMethod":  # Aidbox's name, sent by fhirpy's count()
        if raw not in _TOTAL_METHODS:
            raise InvalidRequest(f"Invalid _totalMethod '{raw[:40]}': use count or estimate")
        results.total = _TOTAL_METHODS[raw]
    elif base == "_contained":
        if raw != "false":
            raise InvalidRequest("_contained is not supported: contained resources are not "
                                 "searched by this server (only _contained=false)")
    elif base == "_containedType":
        if raw != "container":
            raise InvalidRequest("_containedType is not supported (only container)")
    elif base == CURSOR_PARAMETER:
        results.cursor = raw
        return False
    return True

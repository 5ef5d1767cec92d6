"""SMART scopes, v1 and v2, with v2 query restrictions.

SMART App Launch 2.x, "Scopes and Launch Context":
https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html

A resource scope is ``<patient|user|system>/<Type|*>.<permissions>[?query]``. v1 spells the
permissions ``read`` (= ``rs``), ``write`` (= ``cud``) or ``*`` (= ``cruds``); v2 spells
them as an ordered subset of ``cruds``. Anything else (``openid``, ``launch/patient``,
``offline_access`` ...) is kept as a plain scope token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

__all__ = ["ResourceScope", "ScopeSet", "parse_scope", "parse_scopes", "grant",
           "PERMISSIONS", "CONTEXT_SCOPES"]

PERMISSIONS = "cruds"
CONTEXT_SCOPES = frozenset({
    "openid", "fhirUser", "profile", "offline_access", "online_access",
    "launch", "launch/patient", "launch/encounter",
})
_V1 = {"read": "rs", "write": "cud", "*": "cruds"}
_V1_BY_PERMISSIONS = {"rs": "read", "cud": "write", "cruds": "*"}
_PATTERN = re.compile(
    r"^(?P<context>patient|user|system)/(?P<type>\*|[A-Z][A-Za-z]{1,63})"
    r"\.(?P<permissions>read|write|\*|c?r?u?d?s?)(?:\?(?P<query>.*))?$"
)


@dataclass(frozen=True)
class ResourceScope:
    """One resource scope: who (context), what (type), which interactions, which subset."""

    context: str
    resource_type: str
    permissions: str
    query: tuple[tuple[str, str], ...] = ()
    v1: bool = False

    def __str__(self) -> str:
        permissions = self.permissions
        if self.v1 and not self.query and permissions in _V1_BY_PERMISSIONS:
            permissions = _V1_BY_PERMISSIONS[permissions]
        text = f"{self.context}/{self.resource_type}.{permissions}"
        return f"{text}?{urlencode(self.query)}" if self.query else text

    def covers_type(self, resource_type: str) -> bool:
        return self.resource_type in ("*", resource_type)

    def narrowed_by(self, allowed: ResourceScope) -> ResourceScope | None:
        """The part of this (requested) scope that ``allowed`` permits, or None."""
        if allowed.context != self.context:
            return None
        if allowed.resource_type != "*" and self.resource_type not in (
            "*", allowed.resource_type
        ):
            return None
        permissions = "".join(p for p in PERMISSIONS
                              if p in self.permissions and p in allowed.permissions)
        if not permissions:
            return None
        resource_type = (allowed.resource_type if self.resource_type == "*"
                         else self.resource_type)
        query = tuple(dict.fromkeys(self.query + allowed.query))
        return ResourceScope(self.context, resource_type, permissions, query,
                             self.v1 and permissions == self.permissions)


def parse_scope(text: str) -> ResourceScope | None:
    """A resource scope, or None for any other scope token (``openid``, ``launch`` ...)."""
    match = _PATTERN.match(text)
    if match is None or not match["permissions"]:
        return None
    raw = match["permissions"]
    v1 = raw in _V1
    permissions = _V1[raw] if v1 else raw
    query: tuple[tuple[str, str], ...] = ()
    if match["query"] is not None:
        query = tuple(parse_qsl(match["query"], keep_blank_values=True))
        if not query:
            return None
    return ResourceScope(match["context"], match["type"], permissions, query, v1)


@dataclass(frozen=True)
class ScopeSet:
    """A parsed scope string: resource scopes and the other tokens, in request order."""

    resources: tuple[ResourceScope, ...]
    others: tuple[str, ...]

    def __str__(self) -> str:
        return " ".join([*map(str, self.resources), *self.others])

    def __contains__(self, token: str) -> bool:
        return token in self.others

    def contexts(self) -> set[str]:
        return {scope.context for scope in self.resources}

    def granting(self, permission: str, resource_type: str) -> list[ResourceScope]:
        """The resource scopes that allow ``permission`` (one of ``cruds``) on a type."""
        return [s for s in self.resources
                if permission in s.permissions and s.covers_type(resource_type)]


def parse_scopes(text: str | None) -> ScopeSet:
    resources: list[ResourceScope] = []
    others: list[str] = []
    for token in dict.fromkeys((text or "").split()):
        scope = parse_scope(token)
        if scope is not None:
            resources.append(scope)
        else:
            others.append(token)
    return ScopeSet(tuple(resources), tuple(others))


def _union(first: ResourceScope, second: ResourceScope) -> ResourceScope:
    permissions = "".join(p for p in PERMISSIONS
                          if p in first.permissions or p in second.permissions)
    return ResourceScope(first.context, first.resource_type, permissions, first.query,
                         first.v1 and permissions == first.permissions)


def grant(requested: ScopeSet, allowed: ScopeSet, contexts: set[str]) -> ScopeSet:
    """What a client gets: each requested scope narrowed to what its registration allows.

    ``contexts`` limits the resource scope kinds the grant type may hand out
    (``system`` for client_credentials, ``patient``/``user`` for authorization codes).
    Tokens such as ``openid`` are granted when the registration lists them.
    """
    merged: dict[tuple[str, str, tuple[tuple[str, str], ...]], ResourceScope] = {}
    for scope in requested.resources:
        if scope.context not in contexts:
            continue
        for permitted in allowed.resources:
            narrowed = scope.narrowed_by(permitted)
            if narrowed is None:
                continue
            key = (narrowed.context, narrowed.resource_type, narrowed.query)
            merged[key] = _union(merged[key], narrowed) if key in merged else narrowed
    resources = list(merged.values())
    others = tuple(token for token in requested.others if token in allowed.others)
    return ScopeSet(tuple(resources), others)

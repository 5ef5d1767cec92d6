"""Token search parameters: codes, identifiers and other coded values.

https://hl7.org/fhir/R4/search.html#token — ``code``, ``system|code``, ``|code`` (no
system), ``system|``; modifiers ``:not``, ``:text`` (display / text, string-style prefix
match), ``:of-type`` (identifiers by type), ``:in`` / ``:not-in`` (ValueSet membership)
and ``:below`` / ``:above`` (subsumption), both from the shipped terminology.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...errors import InvalidRequest
from ..filters import (
    RANK_EQUAL,
    RANK_RANGE,
    AllOf,
    AnyOf,
    Condition,
    Element,
    Exists,
    NoElement,
    Nothing,
)
from ..normalize import normalize_text
from ..paths import Node
from . import IndexContext, combine_or, one_value_range, split_escaped, unescape
from .string import prefix_range

__all__ = ["TokenParameter", "TokenValue", "token_entries"]


@dataclass(frozen=True)
class TokenValue:
    system: str | None  # None: any system; "": no system
    code: str | None  # None: any code (``system|``)
    type_system: str | None = None  # :of-type
    type_code: str | None = None
    text: str | None = None  # :text
    codes: frozenset[tuple[str, str]] | None = None  # :in / :not-in / :below / :above
    systems_required: bool = False  # :below / :above compare system and code


def _coding(coding: Any) -> list[dict[str, Any]]:
    if not isinstance(coding, dict):
        return []
    entries: list[dict[str, Any]] = []
    system, code = coding.get("system"), coding.get("code")
    if isinstance(code, str):
        entry: dict[str, Any] = {"c": code}
        if isinstance(system, str):
            entry["s"] = system
            entry["sc"] = f"{system}|{code}"
        entries.append(entry)
    elif isinstance(system, str):
        entries.append({"s": system})
    display = coding.get("display")
    if isinstance(display, str) and display.strip():
        entries.append({"d": normalize_text(display)})
    return entries


def _identifier(value: dict[str, Any]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    code, system = value.get("value"), value.get("system")
    kind = value.get("type") if isinstance(value.get("type"), dict) else {}
    if isinstance(code, str):
        entry: dict[str, Any] = {"c": code}
        if isinstance(system, str):
            entry["s"] = system
            entry["sc"] = f"{system}|{code}"
        types = [f"{c.get('system', '')}|{c.get('code')}" for c in kind.get("coding", [])
                 if isinstance(c, dict) and isinstance(c.get("code"), str)]
        if types:
            entry["ty"] = types
        entries.append(entry)
    if isinstance(kind.get("text"), str) and kind["text"].strip():
        entries.append({"d": normalize_text(kind["text"])})
    return entries


def _entries_of(node: Node) -> list[dict[str, Any]]:
    value, kind = node.value, node.type_code
    if isinstance(value, bool):
        return [{"c": "true" if value else "false"}]
    if isinstance(value, str | int) and not isinstance(value, bool):
        return [{"c": str(value)}]
    if not isinstance(value, dict):
        return []
    if kind == "CodeableConcept" or (kind is None and ("coding" in value or "text" in value)):
        entries = [e for coding in value.get("coding", []) for e in _coding(coding)]
        if isinstance(value.get("text"), str) and value["text"].strip():
            entries.append({"d": normalize_text(value["text"])})
        return entries
    if kind in ("Identifier", "ContactPoint") or (kind is None and "value" in value):
        return _identifier(value)
    if kind == "Reference" and isinstance(value.get("identifier"), dict):
        return _identifier(value["identifier"])
    return _coding(value)


def token_entries(nodes: list[Node]) -> list[dict[str, Any]]:
    unique: dict[tuple[Any, ...], dict[str, Any]] = {}
    for node in nodes:
        for entry in _entries_of(node):
            key = tuple(sorted((k, str(v)) for k, v in entry.items()))
            unique.setdefault(key, entry)
    return list(unique.values())


def _terminology() -> Any:
    from terminology.local import shipped_terminology

    return shipped_terminology()


class TokenParameter:
    name = "token"
    modifiers = frozenset({"not", "text", "of-type", "in", "not-in", "below", "above"})

    def entries(self, nodes: list[Node], context: IndexContext) -> list[dict[str, Any]]:
        return token_entries(nodes)

    def parse(
        self, text: str, modifier: str | None, parameter: Any, context: IndexContext
    ) -> TokenValue:
        if modifier == "text":
            return TokenValue(None, None, text=normalize_text(unescape(text)))
        if modifier in ("in", "not-in"):
            expansion = _terminology().expand(unescape(text))
            if expansion is None:
                raise InvalidRequest(
                    f"ValueSet '{text[:200]}' for {parameter.code}:{modifier} is not known "
                    "or cannot be expanded by this server"
                )
            return TokenValue(None, None, codes=expansion.contains)
        parts = [unescape(p) for p in split_escaped(text, "|")]
        if modifier in ("below", "above"):
            return self._subsumed(parts, modifier, parameter)
        if modifier == "of-type":
            if len(parts) != 3 or not parts[1] or not parts[2]:
                raise InvalidRequest(
                    f"{parameter.code}:of-type takes [type system]|[type code]|[value]"
                )
            return TokenValue(None, parts[2], type_system=parts[0], type_code=parts[1])
        if len(parts) == 1:
            return TokenValue(None, parts[0])
        if len(parts) != 2:
            raise InvalidRequest(f"Invalid token '{text[:80]}' for {parameter.code}: "
                                 "use [code], [system]|[code], |[code] or [system]|")
        system, code = parts
        return TokenValue(system, code or None)

    @staticmethod
    def _subsumed(parts: list[str], modifier: str, parameter: Any) -> TokenValue:
        """``system|code`` and the codes below (or above) it in the shipped terminology."""
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise InvalidRequest(f"{parameter.code}:{modifier} takes [system]|[code]")
        system, code = parts
        terminology = _terminology()
        found = (terminology.codes_below(system, code) if modifier == "below"
                 else terminology.codes_above(system, code))
        if found is None:
            raise InvalidRequest(f"Code system '{system[:200]}' is not known to this server, "
                                 f"so {parameter.code}:{modifier} cannot be evaluated")
        return TokenValue(None, None, codes=frozenset((system, c) for c in found),
                          systems_required=True)

    def _match(self, value: TokenValue) -> tuple[dict[str, Any], Any]:
        """(element match, index hint) for a value without :text/:in."""
        if value.type_code is not None:
            kind = f"{value.type_system}|{value.type_code}"
            return {"ty": kind, "c": value.code}, ("c", value.code)
        if value.system is None:
            return {"c": value.code}, None
        if value.system == "":
            return {"c": value.code, "s": {"$exists": False}}, ("c", value.code)
        if value.code is None:
            return {"s": value.system}, None
        return {"sc": f"{value.system}|{value.code}"}, None

    def condition(self, value: TokenValue, modifier: str | None, path: str) -> Condition:
        if value.text is not None:
            return one_value_range(path, "d", prefix_range(value.text), RANK_RANGE)
        if value.codes is not None:
            return self._in(value.codes, modifier == "not-in", path, value.systems_required)
        match, hint = self._match(value)
        if modifier == "not":
            return NoElement(path, match)
        return Element(path, match, hint=hint, rank=RANK_EQUAL)

    @staticmethod
    def _in(codes: frozenset[tuple[str, str]], negated: bool, path: str,
            systems_required: bool = False) -> Condition:
        """Coded values in (or, negated, not in) a ValueSet; a plain ``code`` element has no
        system in the resource, so it is compared with the ValueSet's codes alone."""
        if not codes:
            return Nothing() if not negated else Exists(path, True)
        pairs = {"sc": {"$in": sorted(f"{system}|{code}" for system, code in codes)}}
        if systems_required:
            return Element(path, pairs, rank=RANK_EQUAL)
        plain = {"c": {"$in": sorted({code for _, code in codes})}, "s": {"$exists": False}}
        if negated:
            return AllOf((NoElement(path, pairs), NoElement(path, plain)))
        return AnyOf((Element(path, pairs, rank=RANK_EQUAL), Element(path, plain)))

    def clause(self, values: list[TokenValue], modifier: str | None, path: str) -> Condition:
        """``:not`` with several values means none of them (as HAPI does)."""
        if modifier == "not" and len(values) > 1:
            matches = [self._match(v)[0] for v in values]
            keys = {tuple(m) for m in matches}
            if len(keys) == 1 and len(matches[0]) == 1:
                key = next(iter(matches[0]))
                return NoElement(path, {key: {"$in": [m[key] for m in matches]}})
            return AllOf(tuple(NoElement(path, m) for m in matches))
        return combine_or([self.condition(v, modifier, path) for v in values])

    def sort_values(self, entries: list[dict[str, Any]]) -> tuple[Any, Any] | None:
        codes = [e["c"] for e in entries if "c" in e]
        return (min(codes), max(codes)) if codes else None

"""Storage-level conditions and their rendering into one MongoDB filter document.

Index entries live in arrays (``search.<code>``: one sub-document per value), so most
conditions say "some element of this array matches". :func:`render` ANDs conditions into
a filter that keeps one plain key per indexed field where it can, puts the most
selective condition first, and falls back to ``$elemMatch``/``$all``/``$and`` only where
needed — a flat filter is what lets a query planner pick an index for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Condition",
    "Element",
    "NoElement",
    "Exists",
    "Field",
    "AnyOf",
    "AllOf",
    "Nothing",
    "none_of",
    "render",
    "RANK_ID",
    "RANK_REFERENCE",
    "RANK_EQUAL",
    "RANK_RANGE",
    "RANK_OTHER",
]

RANK_ID, RANK_REFERENCE, RANK_EQUAL, RANK_RANGE, RANK_OTHER = 0, 1, 2, 3, 9


@dataclass(frozen=True)
class Element:
    """Some element of the array at ``path`` matches ``match`` (a query on one element,
    without logical operators: some MongoDB-compatible servers do not take ``$or`` inside
    ``$elemMatch``; an OR becomes :class:`AnyOf`).

    ``hint`` is an optional ``(subfield, condition)`` implied by ``match`` that an index
    on ``path.subfield`` can answer; ``index_key`` an optional ``(field, condition)`` on
    another document field that the match implies (e.g. coarse date buckets).
    """

    path: str
    match: dict[str, Any]
    hint: tuple[str, Any] | None = None
    rank: int = RANK_OTHER
    index_key: tuple[str, Any] | None = None


@dataclass(frozen=True)
class NoElement:
    """No element of the array at ``path`` matches ``match`` (missing arrays match)."""

    path: str
    match: dict[str, Any]


@dataclass(frozen=True)
class Exists:
    path: str
    present: bool


@dataclass(frozen=True)
class Field:
    """A condition on a top-level document field, e.g. ``_id``."""

    key: str
    condition: Any
    rank: int = RANK_OTHER


@dataclass(frozen=True)
class AnyOf:
    options: tuple[Condition, ...]


@dataclass(frozen=True)
class AllOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Nothing:
    """Matches no document (e.g. a chain whose target set is empty)."""


Condition = Element | NoElement | Exists | Field | AnyOf | AllOf | Nothing


def none_of(path: str, match: dict[str, Any]) -> Condition:
    """Resources with values at ``path``, none of which matches (the ``ne`` prefix)."""
    return AllOf((Exists(path, True), NoElement(path, match)))


def _single_key(match: dict[str, Any]) -> tuple[str, Any] | None:
    if len(match) == 1:
        key, value = next(iter(match.items()))
        if not key.startswith("$"):
            return key, value
    return None


def _is_plain(value: Any) -> bool:
    return not isinstance(value, dict)


def _merge_any_of(condition: AnyOf) -> Condition:
    """OR over one array field becomes ``$in`` when it can (the common ``a,b,c``)."""
    options = [_merge_any_of(o) if isinstance(o, AnyOf) else o for o in condition.options]
    options = [o for o in options if not isinstance(o, Nothing)]
    if not options:
        return Nothing()
    if len(options) == 1:
        return options[0]
    if all(isinstance(o, Element) for o in options):
        elements: list[Element] = options  # type: ignore[assignment]
        singles = [_single_key(e.match) for e in elements]
        keys = {(e.path, s[0]) for e, s in zip(elements, singles, strict=True) if s}
        if all(s is not None and _is_plain(s[1]) for s in singles) and len(keys) == 1:
            key = singles[0][0]  # type: ignore[index]
            values = list(dict.fromkeys(s[1] for s in singles if s))
            return Element(elements[0].path, {key: {"$in": values}},
                           rank=max(e.rank for e in elements))
    if all(isinstance(o, Field) for o in options):
        fields: list[Field] = options  # type: ignore[assignment]
        if len({f.key for f in fields}) == 1 and all(_is_plain(f.condition) for f in fields):
            return Field(fields[0].key, {"$in": list(dict.fromkeys(f.condition for f in fields))},
                         rank=fields[0].rank)
    return AnyOf(tuple(options))


@dataclass
class _Filter:
    keys: dict[str, Any] = field(default_factory=dict)
    extra: list[dict[str, Any]] = field(default_factory=list)

    def put(self, key: str, condition: Any) -> None:
        if key not in self.keys:
            self.keys[key] = condition
            return
        existing = self.keys[key]
        if isinstance(existing, dict) and isinstance(condition, dict) and not (
            set(existing) & set(condition)
        ) and all(k.startswith("$") for k in [*existing, *condition]):
            self.keys[key] = {**existing, **condition}
            return
        self.extra.append({key: condition})

    def put_array(self, path: str, operator: str, value: Any) -> None:
        current = self.keys.get(path)
        if current is None:
            self.keys[path] = {operator: value}
        elif isinstance(current, dict) and operator not in current and all(
            k.startswith("$") for k in current
        ):
            current[operator] = value
        elif operator == "$all" and isinstance(current, dict) and "$all" in current:
            current["$all"].extend(value)
        else:
            self.extra.append({path: {operator: value}})


def _add(target: _Filter, condition: Condition) -> None:
    if isinstance(condition, AllOf):
        for part in condition.conditions:
            _add(target, part)
    elif isinstance(condition, AnyOf):
        merged = _merge_any_of(condition)
        if not isinstance(merged, AnyOf):
            _add(target, merged)
            return
        target.extra.append({"$or": [render([o]) for o in merged.options]})
    elif isinstance(condition, Element):
        if condition.index_key is not None and condition.index_key[0] not in target.keys:
            target.put(*condition.index_key)
        single = _single_key(condition.match)
        if single is not None:
            key = f"{condition.path}.{single[0]}"
            if key not in target.keys:
                target.put(key, single[1])
                return
        elif condition.hint is not None:
            hint_key = f"{condition.path}.{condition.hint[0]}"
            if hint_key not in target.keys:
                target.put(hint_key, condition.hint[1])
        if condition.path not in target.keys:
            target.put(condition.path, {"$elemMatch": condition.match})
        else:
            target.put_array(condition.path, "$all", [{"$elemMatch": condition.match}])
    elif isinstance(condition, NoElement):
        target.put_array(condition.path, "$not", {"$elemMatch": condition.match})
    elif isinstance(condition, Exists):
        target.put_array(condition.path, "$exists", condition.present)
    elif isinstance(condition, Field):
        target.put(condition.key, condition.condition)
    elif isinstance(condition, Nothing):
        target.put("_id", {"$in": []})


def _rank(condition: Condition) -> int:
    if isinstance(condition, Element | Field):
        return condition.rank
    if isinstance(condition, Nothing):
        return -1
    return RANK_OTHER + 1


def render(conditions: list[Condition]) -> dict[str, Any]:
    """AND of ``conditions`` as a MongoDB filter (empty list: every document)."""
    target = _Filter()
    for condition in sorted(conditions, key=_rank):
        _add(target, condition)
    result = dict(target.keys)
    if target.extra:
        result["$and"] = target.extra
    return result

"""Pair keys: one indexed value for "this patient's resources with this code".

The commonest clinical search is a reference and a code together (``Observation?subject=
Patient/1&code=http://loinc.org|8302-2&_sort=-date``). Two multikey conditions cannot
share one compound index (MongoDB refuses to index two arrays of one document together),
so each would be answered from its own index and the other filtered, examining all of
the patient's resources. A pair key is the cross product of the two parameters' index
values, written with the resource (``search._pair.<name>``): one equality on it finds
exactly the resources matching both, and its index ``{key, sort key, _id}`` returns them
in the requested order, so a database stops at ``_count``.

:data:`PAIRS` declares the pairs per resource type: the reference parameter whose values
make the key, the reference parameters a query may use it for (those whose values are
always among the key parameter's, such as ``patient`` = ``subject`` when it is a
Patient), the token parameter, and the sort key of the compound index.
https://hl7.org/fhir/R4/search.html#combining
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .filters import RANK_ID, Condition, Field
from .parameters.reference import ReferenceValue
from .parameters.token import TokenValue
from .query import Clause

__all__ = ["Pair", "PAIRS", "PAIR_FIELD", "pair_keys", "pair_condition"]

PAIR_FIELD = "_pair"
_SEPARATOR = "\x1f"  # never in FHIR strings (R4 datatypes.html#string: no code point < 32)
_MAX_KEYS = 100


@dataclass(frozen=True)
class Pair:
    name: str
    reference: str  # the parameter whose index values make the key
    used_by: tuple[str, ...]  # reference parameters whose values are among the key's
    token: str
    sort: str  # the sort parameter of the compound index


PAIRS: dict[str, tuple[Pair, ...]] = {
    "Observation": (Pair("subject-code", "subject", ("subject", "patient"), "code", "date"),),
    "Condition": (Pair("subject-code", "subject", ("subject", "patient"), "code",
                       "onset-date"),),
}


def _key(reference: str, token: str) -> str:
    return f"{reference}{_SEPARATOR}{token}"


def _token_keys(entry: dict[str, Any]) -> list[str]:
    code, system = entry.get("c"), entry.get("s")
    if not isinstance(code, str):
        return []
    return [code, f"{system}{_SEPARATOR}{code}"] if isinstance(system, str) else [code]


def pair_keys(resource_type: str, index: dict[str, Any]) -> dict[str, list[str]]:
    """The pair keys of a resource from its index entries: for each pair, reference x
    (code, system+code)."""
    found: dict[str, list[str]] = {}
    for pair in PAIRS.get(resource_type, ()):
        references = [e["r"] for e in index.get(pair.reference, []) if isinstance(e.get("r"),
                                                                                   str)]
        tokens = [t for e in index.get(pair.token, []) for t in _token_keys(e)]
        keys = list(dict.fromkeys(_key(r, t) for r in references for t in tokens))
        if keys:
            found[pair.name] = keys
    return found


def _references(clause: Clause) -> list[str] | None:
    if clause.chain or clause.missing is not None:
        return None
    references: list[str] = []
    for value in clause.values:
        if not isinstance(value, ReferenceValue) or value.by_identifier or value.version:
            return None
        references.extend(value.references)
    return references


def _tokens(clause: Clause) -> list[str] | None:
    if clause.chain or clause.missing is not None or clause.modifier is not None:
        return None
    tokens: list[str] = []
    for value in clause.values:
        if (not isinstance(value, TokenValue) or value.code is None or value.system == ""
                or value.type_code is not None or value.text is not None
                or value.codes is not None):
            return None
        tokens.append(value.code if value.system is None
                      else f"{value.system}{_SEPARATOR}{value.code}")
    return tokens


def pair_condition(resource_type: str, clauses: list[Clause]
                   ) -> tuple[Condition, list[Clause]] | None:
    """One condition on a pair key replacing a reference clause and a token clause it
    answers exactly, with the clauses left; None when no pair applies."""
    for pair in PAIRS.get(resource_type, ()):
        for reference in clauses:
            if reference.parameter is None or reference.parameter.code not in pair.used_by:
                continue
            references = _references(reference)
            if not references:
                continue
            for token in clauses:
                if token.parameter is None or token.parameter.code != pair.token:
                    continue
                tokens = _tokens(token)
                if not tokens or len(references) * len(tokens) > _MAX_KEYS:
                    continue
                keys = list(dict.fromkeys(_key(r, t) for r in references for t in tokens))
                field = f"search.{PAIR_FIELD}.{pair.name}"
                condition = Field(field, keys[0] if len(keys) == 1 else {"$in": keys},
                                  rank=RANK_ID)
                rest = [c for c in clauses if c is not reference and c is not token]
                return condition, rest
    return None

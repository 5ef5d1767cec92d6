"""The ``phonetic`` search parameter of Patient, Person, Practitioner and RelatedPerson
(R4 ``individual-phonetic``: "a portion of either family or given name using some kind of
phonetic matching algorithm").

The algorithm is the patient matcher's (:func:`fhir_server.identity.phonetic_key`): each
given and family name word becomes its first letter and the consonants of its spelling
with Indian transliteration variants folded (``Lakshmi``, ``Laxmi``, ``Luxmi`` -> ``lxm``).
Honorifics, relation phrases and given-name suffixes are dropped as the matcher drops them.
The index holds one ``{"n": key}`` per word; a search value matches a resource that has
the key of every word of the value (``phonetic=Laxmi Devi`` needs both). ``$match`` finds
candidates with it (docs/identity.md, "Blocking").
"""

from __future__ import annotations

from typing import Any

from ...errors import InvalidRequest
from ...identity.names import name_tokens, phonetic_key
from ..filters import RANK_EQUAL, AllOf, Condition, Element
from ..paths import Node
from . import IndexContext

__all__ = ["PhoneticParameter", "PHONETIC_URL"]

PHONETIC_URL = "http://hl7.org/fhir/SearchParameter/individual-phonetic"


def _keys(words: tuple[str, ...]) -> list[str]:
    return list(dict.fromkeys(phonetic_key(w) for w in words if len(w) > 1))


class PhoneticParameter:
    name = "string"
    modifiers: frozenset[str] = frozenset()

    def entries(self, nodes: list[Node], context: IndexContext) -> list[dict[str, Any]]:
        keys: dict[str, None] = {}
        for node in nodes:
            if isinstance(node.value, dict):
                tokens = name_tokens(node.value)
                keys.update(dict.fromkeys(_keys(tokens.given + tokens.family)))
        return [{"n": key} for key in keys]

    def parse(self, text: str, modifier: str | None, parameter: Any,
              context: IndexContext) -> tuple[str, ...]:
        tokens = name_tokens({"text": text[:1000]})
        keys = tuple(_keys(tokens.given + tokens.family))
        if not keys:
            raise InvalidRequest(f"'{text[:80]}' has no name for {parameter.code} to match")
        return keys

    def condition(self, value: tuple[str, ...], modifier: str | None, path: str) -> Condition:
        elements = tuple(Element(path, {"n": key}, rank=RANK_EQUAL) for key in value)
        return elements[0] if len(elements) == 1 else AllOf(elements)

    def sort_values(self, entries: list[dict[str, Any]]) -> tuple[Any, Any] | None:
        return None

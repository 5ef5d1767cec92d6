"""``_text`` and ``_content``: full-text search over the narrative and over the content.

https://hl7.org/fhir/R4/search.html#text. As HAPI FHIR defines them, ``_text`` searches the
narrative (``text.div``, markup removed) and ``_content`` the values of the resource's
``string`` and ``markdown`` elements (contained resources included, the narrative not);
the query syntax is in ``text_query``.

Index entries, under ``search._text`` / ``search._content``: one ``{"w": word}`` per
distinct word (case- and accent-folded, split on anything that is not a letter or digit)
and one ``{"t": text}`` holding each value's words, space-separated with a space at both
ends, one value per line, for phrases. A word is an equality (or, as a prefix, a range on
one entry) that an ordinary index on ``search._content.w`` answers, and a phrase is a
literal substring of ``t``: only operators every MongoDB server has, where ``$text`` needs
a text index that the embedded database (SecantusDB) does not offer, and cannot search a
prefix nor keep ``_text`` and ``_content`` apart (one text index per collection).
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Any

from ..elements import Context, children, root_context
from ..filters import RANK_EQUAL, RANK_RANGE, AllOf, AnyOf, Condition, Element, NoElement
from ..normalize import normalize_text
from ..paths import Node
from . import IndexContext, one_value_range
from .string import prefix_range
from .text_query import And, Not, Or, TextQuery, Word, parse_text_query

__all__ = ["NarrativeParameter", "ContentParameter", "words", "MAX_WORDS", "MAX_TEXT"]

MAX_WORDS = 5000  # distinct words indexed per resource and parameter
MAX_TEXT = 200_000  # characters of phrase text indexed per resource and parameter
_MAX_WORD = 64
_WORD = re.compile(r"\w+")
_TAG = re.compile(r"<[^>]*>")
_TEXT_TYPES = frozenset({"string", "markdown"})


def words(text: str) -> list[str]:
    """The index's words of ``text``: folded like string search, split on non-word
    characters, each cut to 64 characters."""
    return [w[:_MAX_WORD] for w in _WORD.findall(normalize_text(text))]


@lru_cache(maxsize=8192)  # bounded: the keys come from clients
def _child(context: Context, key: str) -> Any:
    """The element (with its type) a JSON key holds below ``context``, if any."""
    for candidate in [key] + [key[:i] for i in range(len(key) - 1, 0, -1) if key[i].isupper()]:
        for child in children(context, candidate):
            if child.key == key:
                return child
    return None


def _strings(value: dict[str, Any], context: Context, found: list[str]) -> None:
    for key, item in value.items():
        if key.startswith("_") or key == "resourceType":
            continue
        child = _child(context, key)
        if child is None:
            continue
        for element in item if isinstance(item, list) else [item]:
            if child.type_code in _TEXT_TYPES:
                if isinstance(element, str):
                    found.append(element)
            elif isinstance(element, dict):
                if child.type_code == "Resource" and isinstance(element.get("resourceType"),
                                                                str):
                    _strings(element, root_context(element["resourceType"]), found)
                elif child.context is not None:
                    _strings(element, child.context, found)


def content_strings(resource: dict[str, Any]) -> list[str]:
    """The values of every ``string`` and ``markdown`` element of a resource."""
    found: list[str] = []
    _strings(resource, root_context(resource["resourceType"]), found)
    return found


def narrative_strings(resource: dict[str, Any]) -> list[str]:
    """The text of the narrative's XHTML, markup removed and entities decoded."""
    div = (resource.get("text") or {}).get("div") if isinstance(resource.get("text"),
                                                                  dict) else None
    return [html.unescape(_TAG.sub(" ", div))] if isinstance(div, str) else []


def _entries(texts: list[str]) -> list[dict[str, Any]]:
    distinct: dict[str, None] = {}
    lines: list[str] = []
    size = 0
    for text in texts:
        found = words(text)
        distinct.update(dict.fromkeys(found))
        line = f" {' '.join(found)} "
        if found and size + len(line) <= MAX_TEXT:
            lines.append(line)
            size += len(line) + 1
    entries: list[dict[str, Any]] = [{"w": w} for w in list(distinct)[:MAX_WORDS]]
    if lines:
        entries.append({"t": "\n".join(lines)})
    return entries


def _condition(query: TextQuery, path: str, negated: bool = False) -> Condition:
    """The storage condition of a query tree; negations are pushed down to the words."""
    if isinstance(query, Not):
        return _condition(query.operand, path, not negated)
    if isinstance(query, And | Or):
        parts = tuple(_condition(q, path, negated) for q in query.operands)
        return AllOf(parts) if isinstance(query, And) != negated else AnyOf(parts)
    if isinstance(query, Word):
        match: dict[str, Any] = {"w": prefix_range(query.text) if query.prefix else query.text}
        if negated:
            return NoElement(path, match)
        if query.prefix:
            return one_value_range(path, "w", match["w"], RANK_RANGE)
        return Element(path, match, rank=RANK_EQUAL)
    line = {"t": {"$regex": re.escape(f" {' '.join(query.words)} ")}}
    if negated:
        return NoElement(path, line)
    return AllOf((*(Element(path, {"w": w}, rank=RANK_EQUAL) for w in query.words),
                  Element(path, line)))


class _FullText:
    name = "special"
    modifiers: frozenset[str] = frozenset()
    words_indexed_lazily = True  # see indexes.start_word_index

    @staticmethod
    def texts(resource: dict[str, Any]) -> list[str]:
        raise NotImplementedError

    def entries(self, nodes: list[Node], context: IndexContext) -> list[dict[str, Any]]:
        return _entries([t for node in nodes if isinstance(node.value, dict)
                         for t in self.texts(node.value)])

    def parse(self, text: str, modifier: str | None, parameter: Any, context: IndexContext
              ) -> TextQuery | None:
        return parse_text_query(text, words)

    def condition(self, value: TextQuery | None, modifier: str | None, path: str
                  ) -> Condition:
        if value is None:  # no word at all (punctuation only): no restriction
            return AllOf(())
        return _condition(value, path)

    def sort_values(self, entries: list[dict[str, Any]]) -> tuple[Any, Any] | None:
        return None


class NarrativeParameter(_FullText):
    """``_text``: the narrative."""

    texts = staticmethod(narrative_strings)


class ContentParameter(_FullText):
    """``_content``: the string and markdown values."""

    texts = staticmethod(content_strings)

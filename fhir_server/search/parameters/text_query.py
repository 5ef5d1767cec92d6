"""The query syntax of ``_text`` and ``_content``: HAPI's modified Simple Query Syntax.

https://hl7.org/fhir/R4/search.html#text leaves the syntax to the server; HAPI FHIR passes
it to Lucene's Simple Query Syntax, modified: a value of bare terms only (``blood press``)
matches resources having a word starting with each term (all terms, as a prefix each); as
soon as the value uses query syntax, terms match whole words:

* ``a b``, ``a + b``, ``a AND b``: all of them; ``a | b``, ``a OR b``: any of them;
* ``-a``, ``NOT a``: not ``a``; ``( ... )`` groups;
* ``"a b"`` a phrase (the words next to each other in one value), ``'a'`` the whole word;
* ``a*`` words starting with ``a``.

Lower-case ``and`` / ``or`` are read as the operators too (as in the spec's example
``(bone OR liver) and metastases``); ``~N`` (fuzziness, slop) is accepted and ignored.
The result is a small tree of :class:`Word`, :class:`Phrase`, :class:`Not`, :class:`And`
and :class:`Or` nodes over normalised words (see ``text.words``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ...errors import InvalidRequest

__all__ = ["Word", "Phrase", "Not", "And", "Or", "TextQuery", "parse_text_query"]

_SYNTAX = set("\"'()|+*~")
_TOKEN = re.compile(r"""\s*(?:(?P<quoted>"[^"]*"?|'[^']*'?)|(?P<operator>[()|+])
                        |(?P<term>[^\s()|+"']+))""", re.VERBOSE)
_FUZZY = re.compile(r"~\d*$")
_MAX_TERMS = 32


@dataclass(frozen=True)
class Word:
    text: str
    prefix: bool = False


@dataclass(frozen=True)
class Phrase:
    words: tuple[str, ...]


@dataclass(frozen=True)
class Not:
    operand: TextQuery


@dataclass(frozen=True)
class And:
    operands: tuple[TextQuery, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[TextQuery, ...]


TextQuery = Word | Phrase | Not | And | Or


def _bare(text: str) -> bool:
    """Only words: no query punctuation, no ``-`` before a term, no operator words."""
    return not (_SYNTAX & set(text)) and not any(
        t.startswith("-") or t in ("AND", "OR", "NOT", "and", "or") for t in text.split())


def _phrase(words: list[str]) -> TextQuery | None:
    if not words:
        return None
    return Word(words[0]) if len(words) == 1 else Phrase(tuple(words))


class _Parser:
    """Recursive descent: ``or := and (('|'|OR) and)*``, ``and := unary (['+'|AND] unary)*``,
    ``unary := ('-'|NOT) unary | '(' or ')' | quoted | term``."""

    def __init__(self, tokens: list[tuple[str, str]], words: Callable[[str], list[str]]
                 ) -> None:
        self.tokens = tokens
        self.position = 0
        self.words = words

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def either(self) -> TextQuery | None:
        options = [self.both()]
        while (token := self.peek()) is not None and token in (
                ("operator", "|"), ("term", "OR"), ("term", "or")):
            self.take()
            options.append(self.both())
        found = tuple(o for o in options if o is not None)
        return (found[0] if len(found) == 1 else Or(found)) if found else None

    def both(self) -> TextQuery | None:
        parts = [self.unary()]
        while (token := self.peek()) is not None and token not in (
                ("operator", "|"), ("term", "OR"), ("term", "or"), ("operator", ")")):
            if token in (("operator", "+"), ("term", "AND"), ("term", "and")):
                self.take()
                continue
            parts.append(self.unary())
        found = tuple(p for p in parts if p is not None)
        return (found[0] if len(found) == 1 else And(found)) if found else None

    def unary(self) -> TextQuery | None:
        if self.peek() is None:
            return None
        kind, text = self.take()
        if (kind, text) == ("term", "NOT") or (kind == "term" and text.startswith("-")):
            if text.startswith("-") and len(text) > 1:
                self.tokens.insert(self.position, ("term", text[1:]))
            operand = self.unary()
            return Not(operand) if operand is not None else None
        if (kind, text) == ("operator", "("):
            inner = self.either()
            if self.peek() != ("operator", ")"):
                raise InvalidRequest("Unbalanced parentheses in a _text/_content query")
            self.take()
            return inner
        if kind == "operator":
            raise InvalidRequest(f"Unexpected '{text}' in a _text/_content query")
        if kind == "quoted":
            return _phrase(self.words(text.strip("\"'")))
        return self.term(text)

    def term(self, text: str) -> TextQuery | None:
        text = _FUZZY.sub("", text)
        prefix = text.endswith("*")
        found = self.words(text.rstrip("*"))
        if not found:
            return None
        if prefix:
            parts = (*(Word(w) for w in found[:-1]), Word(found[-1], prefix=True))
            return parts[0] if len(parts) == 1 else And(parts)
        return _phrase(found)


def parse_text_query(text: str, words: Callable[[str], list[str]]) -> TextQuery | None:
    """The query tree of one ``_text``/``_content`` value (None when it has no word);
    ``words`` normalises and splits text as the index does."""
    if _bare(text):
        terms = [Word(w, prefix=True) for w in words(text)]
        if len(terms) > _MAX_TERMS:
            raise InvalidRequest(f"A _text/_content query takes at most {_MAX_TERMS} terms")
        return (terms[0] if len(terms) == 1 else And(tuple(terms))) if terms else None
    tokens = [(m.lastgroup or "", m.group(m.lastgroup or 0)) for m in _TOKEN.finditer(text)
              if m.lastgroup]
    if len(tokens) > _MAX_TERMS * 2:
        raise InvalidRequest(f"A _text/_content query takes at most {_MAX_TERMS} terms")
    parser = _Parser(tokens, words)
    query = parser.either()
    if parser.peek() is not None:
        raise InvalidRequest("Unbalanced parentheses in a _text/_content query")
    return query

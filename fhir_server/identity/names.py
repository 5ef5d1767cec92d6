"""Comparing person names written in Latin script, with Indian spelling variants.

A ``HumanName`` (https://hl7.org/fhir/R4/datatypes.html#HumanName) becomes given and
family tokens: accents removed, lower case, letters only; honorifics, relation phrases
("W/O Ramesh"), placeholders for unnamed newborns ("B/O Sunita", "Baby") and given-name
suffixes (kumar, devi, bhai, ben...) dropped; a single-letter token is an initial. Two tokens
compare at one of the :data:`TOKEN_LEVELS`, best first:

``exact``      the same token
``variant``    the same after folding transliteration variants (``name_rules.json``:
               aspiration bh/b, sh/s, v/w, z/j, ee/i, oo/u, ksh/x, doubled letters...) or
               listed as equivalent spellings (Mohammad/Mohd)
``phonetic``   the same consonant skeleton of the folded tokens or the same Metaphone code
               (``jellyfish``), either at least 3 letters long, and Jaro-Winkler
               similarity at least 0.8 (Laxmi/Luxmi, Bhavna/Bhavana)
``similar``    the same first letter and Jaro-Winkler similarity at least 0.9 (of the
               tokens or of their folded forms) or, from 4 letters on, one edit apart
               (Damerau-Levenshtein): typing errors. Twins' names that rhyme (Neha/Sneha)
               differ in the first letter and stay ``different``
``initial``    one is an initial, the other starts with it
``different``  none of these
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from typing import Any

import jellyfish

__all__ = ["TOKEN_LEVELS", "NameTokens", "NameComparison", "name_tokens", "patient_names",
           "fold", "phonetic_key", "compare_tokens", "compare_patient_names"]

TOKEN_LEVELS = ("exact", "variant", "phonetic", "similar", "initial", "different")
_RANK = {level: len(TOKEN_LEVELS) - i for i, level in enumerate(TOKEN_LEVELS)}
_VOWELS = frozenset("aeiouyh")
_USE_ORDER = {"official": 0, "usual": 1, None: 2, "maiden": 3, "nickname": 3, "old": 4,
              "anonymous": 5, "temp": 5}


@dataclass(frozen=True)
class _Rules:
    relation: re.Pattern[str]
    placeholder: re.Pattern[str]
    honorifics: frozenset[str]
    given_suffix_tokens: frozenset[str]
    given_suffixes_attached: tuple[str, ...]
    weak_given_tokens: frozenset[str]
    folding: tuple[tuple[re.Pattern[str], str], ...]
    equivalents: Mapping[str, str]
    similar: float
    similar_max_edits: int
    similar_min_length: int
    phonetic_min_similarity: float
    phonetic_min_key_length: int


def _phrases(phrases: Iterable[str]) -> str:
    return "|".join(r"\s*".join(re.escape(w) for w in p.split()) for p in
                    sorted(phrases, key=len, reverse=True))


@lru_cache(maxsize=1)
def _rules() -> _Rules:
    data = json.loads(resources.files(__package__).joinpath("name_rules.json").read_text())
    folding = tuple((re.compile(p), r) for p, r in data["folding"])
    rules = _Rules(
        relation=re.compile(rf"(?:^|\s)(?:{_phrases(data['relation_markers'])})(?:\s|$).*"),
        placeholder=re.compile(rf"^(?:{_phrases(data['placeholder_markers'])})(?:\s|$)"),
        honorifics=frozenset(data["honorifics"]),
        given_suffix_tokens=frozenset(data["given_suffix_tokens"]),
        given_suffixes_attached=tuple(data["given_suffixes_attached"]),
        weak_given_tokens=frozenset(data["weak_given_tokens"]),
        folding=folding, equivalents={},
        similar=data["thresholds"]["similar"],
        similar_max_edits=data["thresholds"]["similar_max_edits"],
        similar_min_length=data["thresholds"]["similar_min_length"],
        phonetic_min_similarity=data["thresholds"]["phonetic_min_similarity"],
        phonetic_min_key_length=data["thresholds"]["phonetic_min_key_length"])
    equivalents = {}
    for spellings in data["equivalents"]:
        canonical = _fold_with(folding, spellings[0])
        equivalents.update({_fold_with(folding, s): canonical for s in spellings})
    return replace(rules, equivalents=equivalents)


def _fold_with(folding: Iterable[tuple[re.Pattern[str], str]], token: str) -> str:
    for pattern, replacement in folding:
        token = pattern.sub(replacement, token)
    return token


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


@lru_cache(maxsize=65536)
def fold(token: str) -> str:
    """The token's spelling with transliteration variants folded (``Lakshmi`` -> ``laxmi``,
    ``Bhavana`` -> ``bavana``), then mapped to its listed equivalent spelling if any."""
    rules = _rules()
    folded = _fold_with(rules.folding, _ascii(token))
    return rules.equivalents.get(folded, folded)


@lru_cache(maxsize=65536)
def phonetic_key(token: str) -> str:
    """The first letter and the consonants of the folded token (``Lakshmi``, ``Luxmi`` ->
    ``lxm``): the key blocking and the ``phonetic`` level use."""
    folded = fold(token)
    return folded[:1] + "".join(c for c in folded[1:] if c not in _VOWELS)


@dataclass(frozen=True)
class NameTokens:
    """One HumanName as tokens; ``given`` is empty for an unnamed newborn."""

    given: tuple[str, ...]
    family: tuple[str, ...]


def _words(text: str) -> list[str]:
    """Words of letters; apostrophes and digits (Synthea's name suffixes) join, not split."""
    return [w for w in re.split(r"[^a-z]+", re.sub(r"['\u2019\d]", "", text)) if w]


def _clean_given(words: list[str]) -> tuple[str, ...]:
    rules = _rules()
    kept = [w for w in words if w not in rules.honorifics] or words
    kept = [w for w in kept if w not in rules.given_suffix_tokens] or kept
    kept = [w for w in kept if w not in rules.weak_given_tokens] or kept
    out = []
    for word in kept:
        for suffix in rules.given_suffixes_attached:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
                break
        out.append(word)
    return tuple(out)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value or [] if isinstance(v, str)] if isinstance(value, list) else []


def name_tokens(name: Mapping[str, Any]) -> NameTokens:
    """Given and family tokens of a HumanName (``text`` alone: last word as family)."""
    rules = _rules()
    given_text = _ascii(" ".join(_strings(name.get("given"))))
    family_text = _ascii(" ".join(_strings(name.get("family"))))
    if not given_text and not family_text and isinstance(name.get("text"), str):
        words = _ascii(name["text"]).split()
        split = len(words) - 1 if len(words) > 1 else len(words)
        given_text, family_text = " ".join(words[:split]), " ".join(words[split:])
    given_text = rules.relation.sub("", given_text).strip()
    family_text = rules.relation.sub("", family_text).strip()
    if rules.placeholder.match(given_text):
        given_text = ""
    family = tuple(w for w in _words(family_text) if w not in rules.honorifics)
    return NameTokens(given=_clean_given(_words(given_text)) if given_text else (), family=family)


def patient_names(patient: Mapping[str, Any]) -> list[NameTokens]:
    """The Patient's names as tokens, official and usual names first."""
    names = [n for n in patient.get("name") or [] if isinstance(n, dict)]
    names.sort(key=lambda n: _USE_ORDER.get(n.get("use"), 2))
    tokens = [name_tokens(n) for n in names]
    return [t for t in tokens if t.given or t.family]


@lru_cache(maxsize=65536)
def compare_tokens(a: str, b: str) -> str:
    """How alike two name tokens are: one of :data:`TOKEN_LEVELS`."""
    if a == b and len(a) > 1:
        return "exact"
    if len(a) == 1 or len(b) == 1:
        return "initial" if a[0] == b[0] else "different"
    rules = _rules()
    fa, fb = fold(a), fold(b)
    if fa == fb:
        return "variant"
    similarity = jellyfish.jaro_winkler_similarity(fa, fb)
    ka, kb = phonetic_key(a), phonetic_key(b)
    ma, mb = jellyfish.metaphone(a), jellyfish.metaphone(b)
    shortest = rules.phonetic_min_key_length
    same_sound = (ka == kb and len(ka) >= shortest) or (ma == mb and len(ma) >= shortest)
    if same_sound and similarity >= rules.phonetic_min_similarity:
        return "phonetic"
    if fa[0] != fb[0]:
        return "different"
    close = min(len(a), len(b)) >= rules.similar_min_length and \
        jellyfish.damerau_levenshtein_distance(a, b) <= rules.similar_max_edits
    if close or max(similarity, jellyfish.jaro_winkler_similarity(a, b)) >= rules.similar:
        return "similar"
    return "different"


def _best(a: tuple[str, ...], b: tuple[str, ...]) -> str:
    if not a or not b:
        return "missing"
    return max((compare_tokens(x, y) for x in a for y in b), key=_RANK.__getitem__)


def _rank(level: str) -> int:
    return _RANK.get(level, 0)


@dataclass(frozen=True)
class NameComparison:
    """The best agreement of two Patients' names: a level per part, and whether the given
    and family names had to be swapped to reach it (then ``given`` is the level of the
    second Patient's given name against the first one's family name)."""

    given: str
    family: str
    swapped: bool


def _split(name: NameTokens) -> NameTokens:
    if not name.family and len(name.given) > 1:
        return NameTokens(given=name.given[:-1], family=name.given[-1:])
    return name


def _compare(a: NameTokens, b: NameTokens) -> NameComparison:
    a, b = _split(a), _split(b)
    straight = NameComparison(_best(a.given, b.given), _best(a.family, b.family), False)
    swapped = NameComparison(_best(a.family, b.given), _best(a.given, b.family), True)
    if "missing" in (swapped.given, swapped.family):
        return straight
    score = _rank(straight.given) + _rank(straight.family)
    return swapped if _rank(swapped.given) + _rank(swapped.family) > score else straight


def compare_patient_names(a: Mapping[str, Any], b: Mapping[str, Any]) -> NameComparison:
    """The best agreement between any name of Patient ``a`` and any name of Patient ``b``
    (``missing`` parts where either side has none)."""
    best = NameComparison("missing", "missing", False)
    for name_a in patient_names(a):
        for name_b in patient_names(b):
            found = _compare(name_a, name_b)
            if (_rank(found.given) + _rank(found.family), not found.swapped) > \
                    (_rank(best.given) + _rank(best.family), not best.swapped):
                best = found
    return best

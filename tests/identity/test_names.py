"""Name normalisation and comparison for Latin-script Indian names (identity.names)."""

from __future__ import annotations

import pytest

from fhir_server.identity import compare_tokens, fold, phonetic_key
from fhir_server.identity.names import compare_patient_names, name_tokens


@pytest.mark.parametrize(("a", "b", "level"), [
    ("sita", "sita", "exact"),
    ("sita", "seeta", "variant"),          # ee / i
    ("lakshmi", "laxmi", "variant"),       # ksh / x
    ("bhavana", "bavana", "variant"),      # aspiration
    ("vijay", "wijay", "variant"),         # v / w
    ("shiv", "siv", "variant"),            # sh / s
    ("zubair", "jubair", "variant"),       # z / j
    ("pooja", "puja", "variant"),          # oo / u
    ("siddharth", "sidharth", "variant"),  # doubled letters
    ("kripa", "krupa", "variant"),         # vocalic r
    ("chowdhury", "choudhary", "variant"),
    ("mohd", "mohammed", "variant"),       # listed equivalents
    ("luxmi", "laxmi", "phonetic"),        # same consonants
    ("bhavna", "bhavana", "phonetic"),     # dropped schwa
    ("gladys", "gladsy", "phonetic"),
    ("schaefer", "shaefer", "similar"),
    ("rocky", "roocky", "similar"),        # one edit
    ("ram", "rama", "similar"),
    ("s", "sunita", "initial"),
    ("r", "sunita", "different"),
    ("sita", "gita", "different"),         # rhyming twins
    ("neha", "sneha", "different"),
    ("anu", "ana", "different"),           # short names need more than a shared skeleton
    ("ramesh", "suresh", "different"),
    ("bose", "basu", "different"),         # a known miss: vowels differ, 2 consonants
])
def test_token_levels(a: str, b: str, level: str) -> None:
    assert compare_tokens(a, b) == level
    assert compare_tokens(b, a) == level


def test_fold_and_phonetic_key() -> None:
    assert fold("Lakshmī") == "laxmi"
    assert phonetic_key("Lakshmi") == phonetic_key("Luxmi") == "lxm"


@pytest.mark.parametrize(("name", "given", "family"), [
    ({"given": ["Smt.", "Sunita", "Devi"], "family": "Sharma"}, ("sunita",), ("sharma",)),
    ({"given": ["Rameshbhai"], "family": "Patel"}, ("ramesh",), ("patel",)),
    ({"given": ["Ravi", "Kumar"]}, ("ravi",), ()),
    ({"given": ["Kumar"], "family": "Gupta"}, ("kumar",), ("gupta",)),  # kept when alone
    ({"given": ["B/O Sunita"], "family": "Sharma"}, (), ("sharma",)),   # unnamed newborn
    ({"given": ["Baby"], "family": "Sharma"}, (), ("sharma",)),
    ({"given": ["Sunita W/O Ramesh"], "family": "Sharma"}, ("sunita",), ("sharma",)),
    ({"given": ["Md.", "Salim"]}, ("salim",), ()),
    ({"text": "Sunita Sharma"}, ("sunita",), ("sharma",)),
    ({"given": ["Arron745"], "family": "O'Keefe54"}, ("arron",), ("okeefe",)),
])
def test_name_tokens(name: dict, given: tuple, family: tuple) -> None:
    tokens = name_tokens(name)
    assert (tokens.given, tokens.family) == (given, family)


def _patient(*names: dict) -> dict:
    return {"resourceType": "Patient", "name": list(names)}


def test_swapped_given_and_family() -> None:
    found = compare_patient_names(_patient({"given": ["Sharma"], "family": "Sunita"}),
                                  _patient({"given": ["Sunita"], "family": "Sharma"}))
    assert (found.given, found.family, found.swapped) == ("exact", "exact", True)


def test_south_indian_initial_for_the_family_name() -> None:
    found = compare_patient_names(_patient({"given": ["R.", "Lakshmi"]}),
                                  _patient({"given": ["Lakshmi"], "family": "Ramasamy"}))
    assert (found.given, found.family) == ("exact", "initial")


def test_missing_middle_name_and_suffix() -> None:
    found = compare_patient_names(_patient({"given": ["Anil"], "family": "Verma"}),
                                  _patient({"given": ["Anil", "Kumar"], "family": "Varma"}))
    assert (found.given, found.family, found.swapped) == ("exact", "phonetic", False)


def test_best_of_several_names() -> None:
    married = _patient({"use": "official", "given": ["Joie"], "family": "Morissette"},
                       {"use": "maiden", "given": ["Joie"], "family": "Kling"})
    found = compare_patient_names(_patient({"given": ["Joie"], "family": "Kling"}), married)
    assert (found.given, found.family) == ("exact", "exact")


def test_no_names() -> None:
    found = compare_patient_names(_patient(), _patient({"given": ["Sita"]}))
    assert (found.given, found.family) == ("missing", "missing")

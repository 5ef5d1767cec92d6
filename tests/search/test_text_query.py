"""The ``_text``/``_content`` query syntax (HAPI's modified Simple Query Syntax), parsed
without a database."""

from __future__ import annotations

import pytest

from fhir_server.errors import InvalidRequest
from fhir_server.search.parameters.text import words
from fhir_server.search.parameters.text_query import (
    And,
    Not,
    Or,
    Phrase,
    Word,
    parse_text_query,
)

CASES = {
    "smit": Word("smit", prefix=True),
    "Jo Smit": And((Word("jo", prefix=True), Word("smit", prefix=True))),
    "blood-pressure": And((Word("blood", prefix=True), Word("pressure", prefix=True))),
    "frank | john": Or((Word("frank"), Word("john"))),
    "'frank'": Word("frank"),
    '"fried eggs" +(eggplant | potato) -frittata': And((
        Phrase(("fried", "eggs")), Or((Word("eggplant"), Word("potato"))),
        Not(Word("frittata")))),
    "(bone OR liver) and metastases": And((Or((Word("bone"), Word("liver"))),
                                           Word("metastases"))),
    "a AND NOT b": And((Word("a"), Not(Word("b")))),
    "immun*": Word("immun", prefix=True),
    "Moles/volume*": And((Word("moles"), Word("volume", prefix=True))),
    "Moles/volume +x": And((Phrase(("moles", "volume")), Word("x"))),
    "fever~2 | chills~": Or((Word("fever"), Word("chills"))),
    "-(a | b)": Not(Or((Word("a"), Word("b")))),
    "Éclampsie": Word("eclampsie", prefix=True),
    "!!!": None,
    '"unclosed phrase': Phrase(("unclosed", "phrase")),
}


@pytest.mark.parametrize("text", sorted(CASES))
def test_query_syntax(text: str) -> None:
    assert parse_text_query(text, words) == CASES[text]


@pytest.mark.parametrize("text", ["(a | b", "a)", "()", "a | )", " ".join(["w"] * 40)])
def test_malformed_or_too_long_queries_are_refused(text: str) -> None:
    with pytest.raises(InvalidRequest):
        parse_text_query(text, words)


def test_words_fold_case_and_accents_and_split_on_punctuation() -> None:
    assert words("Body mass index (BMI) [Ratio] — Ærø café") == [
        "body", "mass", "index", "bmi", "ratio", "ærø", "cafe"]
    assert words("x" * 100) == ["x" * 64]

"""Verhoeff and Luhn check digits against published test vectors.

Verhoeff: 236 -> 3 (Wikipedia, "Verhoeff algorithm", worked example); 12345 -> 1,
142857 -> 0, 123456789012 -> 0, 8473643095483728456789 -> 2 and 75872 -> 2 (Wikibooks,
"Algorithm Implementation/Checksums/Verhoeff Algorithm", test cases); the Aadhaar-format
number 2341 2341 2346 (python-stdnum's ``stdnum.in_.aadhaar`` documentation) is valid.
Luhn: 7992739871 -> 3 (Wikipedia, "Luhn algorithm"); 378282246310005, a published card test
number, is valid.
"""

from __future__ import annotations

import pytest

from fhir_server.identity import (
    check_digit,
    has_valid_check_digit,
    luhn_check_digit,
    verhoeff_check_digit,
)

VERHOEFF = [("236", "3"), ("12345", "1"), ("142857", "0"), ("123456789012", "0"),
            ("8473643095483728456789", "2"), ("75872", "2"), ("23412341234", "6")]
LUHN = [("7992739871", "3"), ("37828224631000", "5")]


@pytest.mark.parametrize(("payload", "digit"), VERHOEFF)
def test_verhoeff_published_vectors(payload: str, digit: str) -> None:
    assert verhoeff_check_digit(payload) == digit
    assert has_valid_check_digit("verhoeff", payload + digit)


@pytest.mark.parametrize(("payload", "digit"), LUHN)
def test_luhn_published_vectors(payload: str, digit: str) -> None:
    assert luhn_check_digit(payload) == digit
    assert has_valid_check_digit("luhn", payload + digit)


def test_verhoeff_catches_every_single_digit_error_and_adjacent_transposition() -> None:
    number = "2363"
    for i in range(len(number)):
        for d in "0123456789":
            if d != number[i]:
                assert not has_valid_check_digit("verhoeff", number[:i] + d + number[i + 1:])
    base = "91234567890"
    full = base + verhoeff_check_digit(base)
    for i in range(len(full) - 1):
        if full[i] != full[i + 1]:
            swapped = full[:i] + full[i + 1] + full[i] + full[i + 2:]
            assert not has_valid_check_digit("verhoeff", swapped)


def test_luhn_misses_the_09_transposition_verhoeff_catches() -> None:
    assert luhn_check_digit("09") == luhn_check_digit("90")
    assert verhoeff_check_digit("09") != verhoeff_check_digit("90")


@pytest.mark.parametrize("payload", ["", "12a4", "١٢٣"])
def test_non_digits_are_refused(payload: str) -> None:
    with pytest.raises(ValueError):
        verhoeff_check_digit(payload)
    assert not has_valid_check_digit("luhn", payload)


def test_unknown_algorithm() -> None:
    with pytest.raises(ValueError, match="unknown"):
        check_digit("damm", "123")

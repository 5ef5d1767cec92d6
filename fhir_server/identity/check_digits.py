"""Check digits for numeric person identifiers: Verhoeff and Luhn.

* Verhoeff (J. Verhoeff, *Error Detecting Decimal Codes*, Mathematical Centre Tract 29,
  Amsterdam 1969; tables as given by H. P. Gumm, *A new class of check-digit methods for
  arbitrary number systems*, IEEE Trans. Inf. Theory 31 (1985), and
  https://en.wikipedia.org/wiki/Verhoeff_algorithm): the multiplication table of the
  dihedral group D5, the permutation (1 5 7 6 2 8 3 0 9 4) applied i mod 8 times, and the
  inverse table. It detects every single-digit error and every transposition of adjacent
  digits; India's Aadhaar number uses it for its last digit.
* Luhn (H. P. Luhn, US patent 2,950,048, 1960; ISO/IEC 7812-1 annex B): double every second
  digit from the right; detects single-digit errors and most adjacent transpositions.

Each algorithm computes the digit appended to a payload of digits, so that
``is_valid(payload + check_digit(payload))``.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["CHECK_DIGIT_ALGORITHMS", "verhoeff_check_digit", "luhn_check_digit",
           "check_digit", "has_valid_check_digit"]

_VERHOEFF_MULTIPLY = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_VERHOEFF_PERMUTE = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)
_VERHOEFF_INVERSE = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)


def _digits(payload: str) -> list[int]:
    if not payload or not payload.isascii() or not payload.isdigit():
        raise ValueError(f"check digits are computed over ASCII digits, not {payload[:40]!r}")
    return [int(c) for c in payload]


def verhoeff_check_digit(payload: str) -> str:
    """The Verhoeff digit to append to ``payload`` (``"236"`` gives ``"3"``)."""
    check = 0
    for position, digit in enumerate(reversed(_digits(payload)), start=1):
        check = _VERHOEFF_MULTIPLY[check][_VERHOEFF_PERMUTE[position % 8][digit]]
    return str(_VERHOEFF_INVERSE[check])


def luhn_check_digit(payload: str) -> str:
    """The Luhn digit to append to ``payload`` (``"7992739871"`` gives ``"3"``)."""
    total = 0
    for position, digit in enumerate(reversed(_digits(payload))):
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


CHECK_DIGIT_ALGORITHMS: dict[str, Callable[[str], str]] = {
    "verhoeff": verhoeff_check_digit,
    "luhn": luhn_check_digit,
}


def check_digit(algorithm: str, payload: str) -> str:
    """The check digit ``algorithm`` (``verhoeff`` or ``luhn``) appends to ``payload``."""
    try:
        return CHECK_DIGIT_ALGORITHMS[algorithm](payload)
    except KeyError:
        raise ValueError(f"unknown check digit algorithm {algorithm!r}") from None


def has_valid_check_digit(algorithm: str, number: str) -> bool:
    """Whether the last digit of ``number`` is its payload's check digit."""
    if len(number) < 2 or not number.isascii() or not number.isdigit():
        return False
    return check_digit(algorithm, number[:-1]) == number[-1]

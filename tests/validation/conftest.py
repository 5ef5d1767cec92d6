"""Fixtures for the validator tests: one Validator (its compiled trees are shared anyway)."""

from __future__ import annotations

import pytest

from profiles.policy import ProfilePolicy
from profiles.validator import Validator


@pytest.fixture(scope="session")
def validator() -> Validator:
    return Validator(policy=ProfilePolicy())

"""Fixtures for the profile tests: a validator with the default policy (unknown profiles
are warnings) and nothing stored beyond the shipped definitions."""

from __future__ import annotations

import pytest

from profiles.policy import ProfilePolicy
from profiles.validator import Validator


@pytest.fixture(scope="session")
def validator() -> Validator:
    return Validator(policy=ProfilePolicy())

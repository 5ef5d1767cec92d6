"""How many examples each fuzz test runs: a bounded default (the whole tier in well under a
minute), or the number asked for with ``--fuzz-examples`` / ``FUZZ_EXAMPLES``."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

__all__ = ["fuzz_settings", "override"]

_asked: int | None = int(os.environ["FUZZ_EXAMPLES"]) if os.environ.get("FUZZ_EXAMPLES") else None


def override(examples: int) -> None:
    global _asked
    _asked = examples


def fuzz_settings(default_examples: int) -> settings:
    """Deterministic settings: the same examples on every run, no deadline (the database
    is shared by the machine), nothing kept between runs."""
    return settings(max_examples=_asked or default_examples, deadline=None, derandomize=True,
                    database=None, print_blob=False,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])

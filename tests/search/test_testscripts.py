"""The public conformance TestScripts (tests/data/conformance) against the running server.

Every script passes, MUST, SHOULD and MAY alike.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from .testscript import run_testscript

pytestmark = pytest.mark.slow

SCRIPTS = Path(__file__).parent.parent / "data" / "conformance"


def _scripts() -> list[Path]:
    return sorted(SCRIPTS.glob("*/*/*.json"))


@pytest.mark.parametrize("path", _scripts(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_conformance_testscript(live_server, path: Path) -> None:
    script = json.loads(path.read_text())
    with httpx.Client(base_url=live_server.base + "/", timeout=60) as http:
        result = run_testscript(script, http)
    assert result.passed, result.failures


def test_every_script_is_run() -> None:
    levels = {p.parent.name for p in _scripts()}
    assert levels == {"MUST", "SHOULD", "MAY"} and len(_scripts()) == 29

"""The public conformance TestScripts (tests/data/conformance) against the running server.

Every MUST and SHOULD script passes, except those listed in :data:`NOT_YET` with the
reason; MAY scripts that fail are listed there too. A listed script may start passing as
the server grows (it then simply passes); an unlisted one must pass.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from .testscript import run_testscript

pytestmark = pytest.mark.slow

SCRIPTS = Path(__file__).parent.parent / "data" / "conformance"
_ONE_EXPORT = ("these scripts start several exports back to back from one client, and the "
               "server answers 429 (Retry-After) while that client's earlier export runs")
NOT_YET = {
    "bulk-data-v2-patient-export-content-location": _ONE_EXPORT,
    "bulk-data-v2-patient-export-returns-202": _ONE_EXPORT,
    "bulk-data-v2-ndjson-output-format-accepted": _ONE_EXPORT,
    "bulk-data-v2-system-export-discoverable": _ONE_EXPORT,
    "fhir-r4-base-bulk-data-export": _ONE_EXPORT,
    "bulk-data-v2-group-export-discoverable": (
        "Group export is offered at Group/[id]/$export; the script kicks off a type-level "
        "Group/$export, which this server does not define (404)"),
}


def _scripts() -> list[Path]:
    return sorted(SCRIPTS.glob("*/*/*.json"))


@pytest.mark.parametrize("path", _scripts(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_conformance_testscript(live_server, path: Path) -> None:
    script = json.loads(path.read_text())
    with httpx.Client(base_url=live_server.base + "/", timeout=60) as http:
        result = run_testscript(script, http)
    reason = NOT_YET.get(script["id"])
    if reason is not None and not result.passed:
        pytest.xfail(f"{reason}: {'; '.join(result.failures)}")
    assert result.passed, result.failures


def test_every_script_is_run() -> None:
    levels = {p.parent.name for p in _scripts()}
    assert levels == {"MUST", "SHOULD", "MAY"} and len(_scripts()) == 29

"""Running a community alert scan through the caller's access policy.

The cases are Conditions with a code in the value set whose onset (``onsetDateTime``,
``onsetPeriod.start``), else ``recordedDate``, falls in the current or a baseline window,
not ``entered-in-error`` or ``refuted``; each patient counts once per window, in the area
of their address (:mod:`.areas`). Conditions and Patients are read with the caller's
policy, so a patient whose Consent refuses the request's purpose of use (``PUBHLTH``), or
whom the caller may not see, is not counted: hidden is absent. Alerts are then written by
the server itself, once per area and window (conditional create on their identifier).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from consent import relative_reference

from .. import interactions
from ..access import SYSTEM
from ..errors import BusinessRuleViolation
from ..interactions import Caller
from .areas import Area, area_of
from .detected_issue import ALERT_SYSTEM, alert_key, detected_issue
from .detection import AreaCount, Scan, assess
from .windows import Windows, case_day

__all__ = ["ScanRequest", "ScanResult", "run_scan", "MAX_CASES", "MAX_CODES"]

MAX_CASES = 50_000
MAX_CODES = 1000
_PATIENT_BATCH = 500
_NOT_CASES = frozenset({"entered-in-error", "refuted"})


@dataclass(frozen=True)
class ScanRequest:
    value_set: str
    codes: frozenset[tuple[str, str]]
    windows: Windows
    scan: Scan
    today: date


@dataclass
class ScanResult:
    areas: list[AreaCount]
    alerts: dict[tuple[str, str], tuple[str, bool]] = field(default_factory=dict)
    """area key -> (DetectedIssue id, raised by this scan)"""


def _escape(text: str) -> str:
    for char in ("\\", ",", "|", "$"):
        text = text.replace(char, "\\" + char)
    return text


def _code_parameter(codes: frozenset[tuple[str, str]]) -> str:
    if len(codes) > MAX_CODES:
        raise BusinessRuleViolation(f"The value set has more than {MAX_CODES} codes")
    return ",".join(f"{_escape(system)}|{_escape(code)}" for system, code in sorted(codes))


def _case_day(condition: dict[str, Any]) -> date | None:
    onset = condition.get("onsetPeriod")
    for value in (condition.get("onsetDateTime"),
                  onset.get("start") if isinstance(onset, dict) else None,
                  condition.get("recordedDate")):
        day = case_day(value)
        if day is not None:
            return day
    return None


def _not_a_case(condition: dict[str, Any]) -> bool:
    status = condition.get("verificationStatus") or {}
    return any(c.get("code") in _NOT_CASES for c in status.get("coding") or []
               if isinstance(c, dict))


async def _conditions(caller: Caller, request: ScanRequest) -> list[dict[str, Any]]:
    windows = request.windows
    code = ("code", _code_parameter(request.codes))
    since, until = windows.earliest.isoformat(), windows.end.isoformat()
    searches = [
        [code, ("onset-date", f"ge{since}"), ("onset-date", f"le{until}")],
        [code, ("onset-date:missing", "true"), ("recorded-date", f"ge{since}"),
         ("recorded-date", f"le{until}")],
    ]
    found: dict[str, dict[str, Any]] = {}
    for params in searches:
        for condition in await caller.services.search.resources(
                caller.policy, "Condition", params, limit=MAX_CASES):
            found[condition["id"]] = condition
    return list(found.values())


async def _patients(caller: Caller, ids: set[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), _PATIENT_BATCH):
        batch = ordered[start:start + _PATIENT_BATCH]
        for patient in await caller.services.search.resources(
                caller.policy, "Patient", [("_id", ",".join(batch))], limit=len(batch)):
            found[patient["id"]] = patient
    return found


async def _counts(caller: Caller, request: ScanRequest
                  ) -> tuple[dict[tuple[str, str], list[int]], dict[tuple[str, str], Area]]:
    cases: list[tuple[str, int]] = []
    for condition in await _conditions(caller, request):
        subject = relative_reference((condition.get("subject") or {}).get("reference"),
                                     caller.base) or ""
        day = _case_day(condition)
        window = None if day is None else request.windows.index(day)
        if window is not None and subject.startswith("Patient/") and not _not_a_case(
                condition):
            cases.append((subject.split("/", 1)[1], window))
    patients = await _patients(caller, {patient for patient, _ in cases})
    seen: dict[tuple[str, str], list[set[str]]] = {}
    areas: dict[tuple[str, str], Area] = {}
    for patient, window in cases:
        area = area_of(patients[patient], request.today) if patient in patients else None
        if area is None:
            continue
        areas.setdefault(area.key, area)
        windows = seen.setdefault(area.key, [set() for _ in range(request.scan.baseline + 1)])
        windows[window].add(patient)
    return {key: [len(w) for w in windows] for key, windows in seen.items()}, areas


async def run_scan(caller: Caller, request: ScanRequest) -> ScanResult:
    """Count, assess, and raise the alerts that are due (an alert already raised for the
    same value set, area and window is found, not raised again)."""
    counts, areas = await _counts(caller, request)
    result = ScanResult(assess(counts, areas, request.scan))
    server = Caller(caller.services, SYSTEM)  # the alert is the server's own record
    for assessed in result.areas:
        if not assessed.alerts:
            continue
        key = alert_key(request.value_set, assessed, request.windows)
        created = await interactions.create(
            server, detected_issue(request.value_set, assessed, request.windows),
            if_none_exist=[("identifier", f"{ALERT_SYSTEM}|{key}")])
        result.alerts[assessed.area.key] = (created.stored.id, created.new)
    return result



"""``POST [base]/Condition/$community-alert-scan``: count recent cases by area, compare them with a
baseline, raise a ``DetectedIssue`` per area that passes the threshold
(docs/community-alerts.md; OperationDefinition ``community-alert-scan``).

Who may call it (with ``--auth smart``): a request made for the purpose of use ``PUBHLTH``
(``X-Purpose-Of-Use``, or the token's first ``purpose_of_use``) whose token was granted
``PUBHLTH`` in its ``purpose_of_use`` claim, or whose actor holds a PractitionerRole code
listed in ``FHIR_PUBLIC_HEALTH_ROLES``; it also needs read access to Condition and
Patient. Anyone else gets 403 before anything is read. Cases are read with the caller's
policy for that purpose, so the patients' Consents decide who counts.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.responses import Response

from .. import clock
from ..access import RequestPolicy
from ..alerts import AreaCount, Scan, ScanRequest, ScanResult, Windows, run_scan
from ..dates import parse_date_range
from ..errors import Forbidden, InvalidRequest, NotFound
from ..rest.negotiation import check_accept
from ..rest.responses import fhir_response
from . import Operation, OperationCall
from ._patient_record import parameter_text

__all__ = ["OPERATIONS", "PUBLIC_HEALTH"]

DEFINITION = "https://mch-fhir.org/fhir/OperationDefinition/community-alert-scan"
PUBLIC_HEALTH = "PUBHLTH"
_DEFAULTS = {"windowDays": 14, "baselineWindows": 4}
_LIMITS = {"windowDays": 366, "baselineWindows": 52, "minimumCellSize": 1000}
_NAMES = ("valueSet", "windowEnd", "windowDays", "baselineWindows", "standardDeviations",
          "minimumCellSize")


async def _check_caller(call: OperationCall) -> None:
    policy = call.policy
    if not isinstance(policy, RequestPolicy):
        return  # --auth off
    view = policy.consent
    if view is None or view.purpose != PUBLIC_HEALTH:
        raise Forbidden("$community-alert-scan is made for public health: send "
                        "X-Purpose-Of-Use: PUBHLTH")
    if PUBLIC_HEALTH not in policy.token.context.purpose_of_use:
        roles = call.services.settings.public_health_roles
        actor = await view.actor(memberships=True)
        if not roles or not {code for _, code in actor.roles} & roles:
            raise Forbidden("$community-alert-scan is for public-health staff (a token "
                            "granted purpose of use PUBHLTH, or a role in "
                            "FHIR_PUBLIC_HEALTH_ROLES)")
    for resource_type in ("Condition", "Patient"):
        policy.check_interaction("search", resource_type)


def _arguments(call: OperationCall) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, raw in call.parameters:
        if name in ("_format", "_pretty"):
            continue
        if name not in _NAMES:
            raise InvalidRequest(f"Unknown $community-alert-scan parameter '{name[:60]}'")
        if name in found:
            raise InvalidRequest(f"'{name}' is given more than once")
        found[name] = parameter_text(raw).strip()
    if not found.get("valueSet"):
        raise InvalidRequest("$community-alert-scan needs 'valueSet' (the canonical URL of "
                             "the ValueSet of the condition codes to count)")
    return found


def _integer(arguments: dict[str, str], name: str, default: int, low: int) -> int:
    text = arguments.get(name)
    if text is None:
        return default
    if not text.isdigit() or not low <= int(text) <= _LIMITS[name]:
        raise InvalidRequest(f"'{name}' is an integer from {low} to {_LIMITS[name]}")
    return int(text)


def _deviations(arguments: dict[str, str]) -> float:
    text = arguments.get("standardDeviations", "2")
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not math.isfinite(value) or not 0 <= value <= 100:
        raise InvalidRequest("'standardDeviations' is a decimal from 0 to 100")
    return value


def _request(call: OperationCall, arguments: dict[str, str]) -> ScanRequest:
    today = clock.now().date()
    end = today
    if "windowEnd" in arguments:
        end = parse_date_range(arguments["windowEnd"], "windowEnd")[0].date()
    minimum = call.services.settings.community_alert_min_cell
    windows = Windows(end, _integer(arguments, "windowDays", _DEFAULTS["windowDays"], 1),
                      _integer(arguments, "baselineWindows", _DEFAULTS["baselineWindows"], 1))
    scan = Scan(windows.baseline, _deviations(arguments),
                _integer(arguments, "minimumCellSize", minimum, minimum))
    terminology = call.services.validator.terminology
    expansion = terminology.expand(arguments["valueSet"])
    if expansion is None:
        raise NotFound(f"ValueSet '{arguments['valueSet'][:200]}' is not known or cannot be "
                       "expanded by this server")
    return ScanRequest(arguments["valueSet"], expansion.contains, windows, scan, today)


def _area(assessed: AreaCount, result: ScanResult) -> dict[str, Any]:
    count = assessed.shown_count
    parts: list[dict[str, Any]] = [
        {"name": "type", "valueCode": assessed.area.kind},
        {"name": "name", "valueString": assessed.area.name},
        {"name": "count", **({"valueInteger": count} if isinstance(count, int)
                             else {"valueString": count})},
    ]
    if not assessed.suppressed and assessed.baseline_shown:
        parts += [{"name": "baselineMean", "valueDecimal": round(assessed.mean, 2)},
                  {"name": "threshold", "valueDecimal": round(assessed.threshold, 2)}]
    alert = result.alerts.get(assessed.area.key)
    if alert is not None:
        parts += [{"name": "alert", "valueReference": {"reference": f"DetectedIssue/{alert[0]}"}},
                  {"name": "raised", "valueBoolean": alert[1]}]
    return {"name": "area", "part": parts}


def _parameters(request: ScanRequest, result: ScanResult) -> dict[str, Any]:
    windows = request.windows
    return {"resourceType": "Parameters", "parameter": [
        {"name": "valueSet", "valueUri": request.value_set},
        {"name": "window", "valuePeriod": {"start": windows.start.isoformat(),
                                           "end": windows.end.isoformat()}},
        {"name": "baselineWindows", "valueInteger": windows.baseline},
        {"name": "minimumCellSize", "valueInteger": request.scan.minimum_cell},
        *[_area(a, result) for a in result.areas]]}


async def community_alert_scan(call: OperationCall) -> Response:
    media = check_accept(call.request)
    await _check_caller(call)
    arguments = _arguments(call)
    store = call.services.validator.store
    if store is not None:
        await store.refresh()
    request = _request(call, arguments)
    result = await run_scan(call.caller, request)
    return fhir_response(_parameters(request, result), 200, request=call.request,
                         media_type=media)


OPERATIONS = [Operation("community-alert-scan", community_alert_scan, type_level=True,
                        resource_types=frozenset({"Condition"}), definition=DEFINITION,
                        affects_state=True)]

"""``Patient/[id]/$immds-forecast``: the immunization forecast of a child.

From the child's birth date, sex and the Immunizations the caller may see, each antigen's
series status and next dose (earliest, due, overdue and latest dates) by a schedule:
``schedule`` (an id of :func:`fhir_server.mch.immunization.schedules`; the deployment's
``FHIR_IMMUNIZATION_SCHEDULE`` by default), as of ``assessmentDate`` (today by default),
with ``condition`` codes the schedule knows (e.g. ``je-endemic-district``). The answer is
a ``Parameters``: ``evaluation`` (ImmunizationEvaluations) and ``recommendation`` (an
ImmunizationRecommendation).

Defined by this server's ``definitions/Patient-immds-forecast.json``. It mirrors the
output of the HL7 Immunization Decision Support Forecast IG's ``$immds-forecast`` but is
not that OperationDefinition: the IG's is system-level and takes the patient and history
in the request; this one reads a stored Patient's.
"""

from __future__ import annotations

from datetime import date

from starlette.responses import Response

from ..errors import InvalidRequest
from ..mch.immunization import (
    InvalidForecastRequest,
    UnknownSchedule,
    forecast,
    forecast_parameters,
)
from ..rest.negotiation import check_accept
from ..rest.responses import fhir_response
from . import Operation, OperationCall
from ._patient_record import as_of, compartment_resources, parameter_text, patient_of

__all__ = ["OPERATIONS"]

DEFINITION = "https://mch-fhir.org/fhir/OperationDefinition/Patient-immds-forecast"
_KNOWN = ("assessmentDate", "schedule", "condition", "_format", "_pretty")


async def immds_forecast(call: OperationCall) -> Response:
    media = check_accept(call.request)
    unknown = [n for n, _ in call.parameters if n not in _KNOWN]
    if unknown:
        raise InvalidRequest(f"Unknown $immds-forecast parameter '{unknown[0][:60]}'")
    schedules = [parameter_text(v) for n, v in call.parameters if n == "schedule"]
    if len(schedules) > 1:
        raise InvalidRequest("schedule is given more than once")
    conditions = [parameter_text(v) for n, v in call.parameters if n == "condition"]
    day = as_of(call, "assessmentDate")
    patient = await patient_of(call)
    try:
        birth = date.fromisoformat(str(patient.get("birthDate", ""))[:10])
    except ValueError:
        raise InvalidRequest(f"Patient/{call.id} has no birth date: a forecast needs "
                             "one") from None
    immunizations = await compartment_resources(call, "Immunization")
    try:
        result = forecast(schedules[0] if schedules else None, birth, immunizations, day,
                          sex=patient.get("gender"), conditions=conditions)
    except (UnknownSchedule, InvalidForecastRequest) as error:
        raise InvalidRequest(str(error)) from None
    return fhir_response(forecast_parameters(result, f"Patient/{call.id}"), 200,
                         request=call.request, media_type=media)


OPERATIONS = [Operation("immds-forecast", immds_forecast, instance=True,
                        resource_types=frozenset({"Patient"}), definition=DEFINITION)]

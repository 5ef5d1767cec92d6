"""``Patient/[id]/$pregnancy-summary?date=``: the pregnancy of that date (today by default).

Due date by documented dating rules (ACOG Committee Opinion 700), gestational age,
trimester, the WHO 2016 antenatal contact model's 8 contacts (done, due, overdue,
upcoming), flags from recorded data and the outcome when recorded, computed by
:mod:`fhir_server.mch.pregnancy` from the patient's Observations, Encounters, Conditions
and Procedures the caller may see. No pregnancy on that date: a ``Parameters`` with the
date only.
"""

from __future__ import annotations

from starlette.responses import Response

from ..errors import InvalidRequest
from ..mch.pregnancy import observation_code_tokens, pregnancy_summary, summary_parameters
from ..rest.negotiation import check_accept
from ..rest.responses import fhir_response
from . import Operation, OperationCall
from ._patient_record import as_of, compartment_resources, patient_of

__all__ = ["OPERATIONS"]

DEFINITION = "https://mch-fhir.org/fhir/OperationDefinition/Patient-pregnancy-summary"


async def summary(call: OperationCall) -> Response:
    media = check_accept(call.request)
    unknown = [n for n, _ in call.parameters if n not in ("date", "_format", "_pretty")]
    if unknown:
        raise InvalidRequest(f"Unknown $pregnancy-summary parameter '{unknown[0][:60]}'")
    day = as_of(call)
    await patient_of(call)
    resources = await compartment_resources(
        call, "Observation", [("code", ",".join(observation_code_tokens()))])
    for resource_type in ("Encounter", "Condition", "Procedure"):
        resources += await compartment_resources(call, resource_type)
    found = pregnancy_summary(resources, day)
    body = (summary_parameters(found) if found is not None else
            {"resourceType": "Parameters",
             "parameter": [{"name": "date", "valueDate": day.isoformat()}]})
    return fhir_response(body, 200, request=call.request, media_type=media)


OPERATIONS = [Operation("pregnancy-summary", summary, instance=True,
                        resource_types=frozenset({"Patient"}), definition=DEFINITION)]

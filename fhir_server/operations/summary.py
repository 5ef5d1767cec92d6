"""``Patient/[id]/$summary``: the patient's International Patient Summary document
(IPS 2.0 OperationDefinition "summary"; built by :mod:`fhir_server.export.summary`).

The patient and every section are read through storage with the caller's access policy:
404 / 410 for the patient as for a read, and only what the caller may see, masked where
a Consent masks it.
"""

from __future__ import annotations

from starlette.responses import Response

from .. import interactions
from ..errors import InvalidRequest
from ..export.summary import patient_summary
from ..rest.negotiation import check_accept
from ..rest.responses import fhir_response
from . import Operation, OperationCall

__all__ = ["OPERATIONS"]

DEFINITION = "http://hl7.org/fhir/uv/ips/OperationDefinition/summary"


async def summary(call: OperationCall) -> Response:
    media = check_accept(call.request)
    unknown = [n for n, _ in call.parameters if n not in ("_format", "_pretty")]
    if unknown:
        raise InvalidRequest(f"$summary takes no parameter '{unknown[0][:60]}' here")
    stored = await interactions.read(call.caller, "Patient", call.id or "")
    assert stored.resource is not None
    bundle = await patient_summary(call.services.storage.queries, call.policy,
                                   call.services.base, stored.resource)
    return fhir_response(bundle, 200, request=call.request, media_type=media)


OPERATIONS = [Operation("summary", summary, instance=True,
                        resource_types=frozenset({"Patient"}), definition=DEFINITION)]

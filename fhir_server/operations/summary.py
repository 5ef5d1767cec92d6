"""``Patient/[id]/$summary``: the patient's International Patient Summary document
(IPS 2.0 OperationDefinition "summary"; built by :mod:`fhir_server.export.summary`).

The patient is read through the repository (404 / 410, and the token's access guard);
every section query carries the caller's search restriction (SMART scopes, consent).
"""

from __future__ import annotations

from starlette.responses import Response

from ..auth.restriction import search_restriction
from ..errors import InvalidRequest
from ..export.summary import patient_summary
from ..json_io import from_bson
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
    stored = await call.services.repository.read("Patient", call.id or "")
    restriction = await search_restriction(call.request, None)
    bundle = await patient_summary(call.services.db, call.services.base,
                                   from_bson(stored.resource), restriction)
    return fhir_response(bundle, 200, request=call.request, media_type=media)


OPERATIONS = [Operation("summary", summary, instance=True,
                        resource_types=frozenset({"Patient"}), definition=DEFINITION)]

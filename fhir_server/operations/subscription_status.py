"""``Subscription/$status`` and ``Subscription/[id]/$status`` (Backport IG operation
``backport-subscription-status``): a ``searchset`` Bundle of status ``Parameters``
(type ``query-status``), one per Subscription the caller may read: at type level those
named by ``id`` (all the caller may read when none is given), filtered by ``status``."""

from __future__ import annotations

from starlette.responses import Response

from ..rest.negotiation import check_accept
from ..rest.responses import fhir_response
from ..subscriptions.notifications import notification
from ..subscriptions.status import subscription_state
from . import Operation, OperationCall
from ._patient_record import parameter_text

__all__ = ["OPERATIONS"]

DEFINITION = ("http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/"
              "backport-subscription-status")
MAX_SUBSCRIPTIONS = 1000


async def status(call: OperationCall) -> Response:
    media = check_accept(call.request)
    if call.id is not None:
        ids = [call.id]
    else:
        params = [(n, parameter_text(v)) for n, v in call.parameters if n in ("id", "status")]
        named = [("_id" if n == "id" else n, v) for n, v in params]
        found = await call.services.search.resources(call.policy, "Subscription", named,
                                                     limit=MAX_SUBSCRIPTIONS)
        ids = sorted(r["id"] for r in found)
    entries = []
    for sid in ids:
        _, state = await subscription_state(call.caller, sid)
        bundle = notification(call.services.base, state, "query-status", [],
                              content="id-only")
        entries.append({"fullUrl": bundle["entry"][0]["fullUrl"],
                        "resource": bundle["entry"][0]["resource"],
                        "search": {"mode": "match"}})
    return fhir_response({"resourceType": "Bundle", "type": "searchset",
                          "total": len(entries), "entry": entries}, 200,
                         request=call.request, media_type=media)


OPERATIONS = [Operation("status", status, type_level=True, instance=True,
                        resource_types=frozenset({"Subscription"}), definition=DEFINITION)]

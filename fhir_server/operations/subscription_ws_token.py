"""``Subscription/[id]/$get-ws-binding-token`` and ``Subscription/$get-ws-binding-token?id=``
(Backport IG operation ``backport-subscription-get-ws-binding-token``): a short-lived
token with which a websocket client binds to websocket Subscriptions the caller may
read. The token is random, stored as a digest, valid for :data:`LIFETIME` (any server
process accepts it), and the answer names the websocket URL."""

from __future__ import annotations

import secrets
from datetime import timedelta

from starlette.responses import Response

from .. import clock
from ..errors import BusinessRuleViolation, InvalidRequest
from ..rest.negotiation import check_accept
from ..rest.responses import fhir_response
from ..subscriptions import websocket_url
from ..subscriptions.status import subscription_state
from . import Operation, OperationCall
from ._patient_record import parameter_text

__all__ = ["OPERATIONS", "LIFETIME"]

DEFINITION = ("http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/"
              "backport-subscription-get-ws-binding-token")
LIFETIME = timedelta(minutes=10)
MAX_SUBSCRIPTIONS = 100


async def binding_token(call: OperationCall) -> Response:
    media = check_accept(call.request)
    ids = [call.id] if call.id else list(dict.fromkeys(
        parameter_text(v) for n, v in call.parameters if n == "id"))
    if not ids:
        raise InvalidRequest("Name the Subscriptions to bind: id=...")
    if len(ids) > MAX_SUBSCRIPTIONS:
        raise InvalidRequest(f"At most {MAX_SUBSCRIPTIONS} Subscriptions per token")
    for sid in ids:
        _, state = await subscription_state(call.caller, sid)
        if state["channel"]["type"] != "websocket":
            raise BusinessRuleViolation(f"Subscription/{sid} does not use the websocket "
                                        "channel")
    token = secrets.token_urlsafe(32)
    expires = clock.now() + LIFETIME
    await call.services.storage.subscriptions.issue_token(token, ids, expires,
                                                          call.policy.owner())
    parameters = [{"name": "token", "valueString": token},
                  {"name": "expiration", "valueDateTime": clock.to_instant(expires)},
                  *({"name": "subscription", "valueString": sid} for sid in ids),
                  {"name": "websocket-url", "valueUrl": websocket_url(call.services.base)}]
    return fhir_response({"resourceType": "Parameters", "parameter": parameters}, 200,
                         request=call.request, media_type=media)


OPERATIONS = [Operation("get-ws-binding-token", binding_token, type_level=True,
                        instance=True, resource_types=frozenset({"Subscription"}),
                        definition=DEFINITION)]

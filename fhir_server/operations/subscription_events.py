"""``Subscription/[id]/$events`` (Backport IG operation ``backport-subscription-events``):
past events of a subscription, ``eventsSinceNumber`` to ``eventsUntilNumber``
(inclusive; by default the last :data:`MAX_EVENTS`), as a ``query-event`` notification
Bundle. ``content`` (``empty``, ``id-only``, ``full-resource``) may ask for less than the
subscription's own payload, never more; every event is shown through the *caller's*
access policy, as it is now."""

from __future__ import annotations

from starlette.responses import Response

from ..errors import InvalidRequest
from ..rest.negotiation import check_accept
from ..rest.responses import fhir_response
from ..subscriptions.notifications import notification
from ..subscriptions.owner import shown_events
from ..subscriptions.status import subscription_state
from . import Operation, OperationCall
from ._patient_record import parameter_text

__all__ = ["OPERATIONS", "MAX_EVENTS"]

DEFINITION = ("http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/"
              "backport-subscription-events")
MAX_EVENTS = 1000
_LEVELS = ("empty", "id-only", "full-resource")


def _number(call: OperationCall, name: str) -> int | None:
    given = [parameter_text(v) for n, v in call.parameters if n == name]
    if not given:
        return None
    if len(given) > 1 or not given[0].isdigit():
        raise InvalidRequest(f"{name} is one event number (a non-negative integer)")
    return int(given[0])


async def events(call: OperationCall) -> Response:
    media = check_accept(call.request)
    assert call.id is not None
    _, state = await subscription_state(call.caller, call.id)
    last = min(_number(call, "eventsUntilNumber") or state["events"], state["events"])
    first = max(_number(call, "eventsSinceNumber") or last - MAX_EVENTS + 1, 1)
    if last - first + 1 > MAX_EVENTS:
        raise InvalidRequest(f"At most {MAX_EVENTS} events per $events; ask for a "
                             "narrower range of numbers")
    own = state["channel"]["content"]
    asked = [parameter_text(v) for n, v in call.parameters if n == "content"]
    if asked and asked[0] not in _LEVELS:
        raise InvalidRequest(f"content is one of {', '.join(_LEVELS)}")
    content = min([own, *asked[:1]], key=_LEVELS.index)
    found = await call.services.storage.subscription_events.between(call.id, first, last)
    shown = await shown_events(call.services, call.policy, found, content)
    bundle = notification(call.services.base, state, "query-event", shown, content=content)
    return fhir_response(bundle, 200, request=call.request, media_type=media)


OPERATIONS = [Operation("events", events, instance=True,
                        resource_types=frozenset({"Subscription"}), definition=DEFINITION)]

"""Notification Bundles (Backport IG, R4: profile ``backport-subscription-notification-r4``):
a ``history`` Bundle whose first entry is the status ``Parameters``
(``backport-subscription-status-r4``: subscription, topic, status, type,
events-since-subscription-start, notification-event with event-number, timestamp and
focus), then, with ``full-resource`` content, the focus resources.

What an event shows depends on the payload content and on the owner's access *when it is
sent*: ``empty`` shows the number and time only; ``id-only`` adds the focus reference;
``full-resource`` adds the resource as the owner may see it (masked where a Consent
masks it). An event whose resource the owner may no longer see is sent as ``empty``, so
numbering stays gapless without saying anything about the resource.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from .. import clock

__all__ = ["Shown", "notification", "STATUS_PROFILE", "BUNDLE_PROFILE"]

_IG = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
STATUS_PROFILE = _IG + "backport-subscription-status-r4"
BUNDLE_PROFILE = _IG + "backport-subscription-notification-r4"
_REQUEST = {"create": ("POST", "201"), "update": ("PUT", "200"), "delete": ("DELETE", "204")}


@dataclass(frozen=True)
class Shown:
    """One event as it is sent: ``resource`` the content the owner may see (None for a
    deletion or for less than full-resource content), ``visible`` whether the owner may
    see the resource at all now."""

    event: dict[str, Any]
    visible: bool
    resource: dict[str, Any] | None = None


def _event_parameter(base: str, shown: Shown, content: str) -> dict[str, Any]:
    event = shown.event
    parts: list[dict[str, Any]] = [
        {"name": "event-number", "valueString": str(event["n"])},
        {"name": "timestamp", "valueInstant": clock.to_instant(event["at"])}]
    if content != "empty" and shown.visible:
        parts.append({"name": "focus", "valueReference": {
            "reference": f"{base}/{event['type']}/{event['id']}"}})
    return {"name": "notification-event", "part": parts}


def _entry(base: str, shown: Shown) -> dict[str, Any]:
    event = shown.event
    method, status = _REQUEST[event["interaction"]]
    url = event["type"] if method == "POST" else f"{event['type']}/{event['id']}"
    entry: dict[str, Any] = {"fullUrl": f"{base}/{event['type']}/{event['id']}"}
    if shown.resource is not None:
        entry["resource"] = shown.resource
    entry["request"] = {"method": method, "url": url}
    entry["response"] = {"status": status}
    return entry


def notification(base: str, state: dict[str, Any], kind: str, shown: list[Shown],
                 content: str | None = None, errors: list[str] | None = None
                 ) -> dict[str, Any]:
    """A notification Bundle of ``kind`` (``handshake``, ``heartbeat``,
    ``event-notification``, ``query-status``, ``query-event``) for ``state``."""
    content = content or state["channel"]["content"]
    sid = state["_id"]
    status_id = str(uuid.uuid4())
    parameters: list[dict[str, Any]] = [
        {"name": "subscription", "valueReference": {"reference": f"{base}/Subscription/{sid}"}}]
    if content != "empty":
        parameters.append({"name": "topic", "valueCanonical": state["topic"]})
    parameters += [
        {"name": "status", "valueCode": state["status"]},
        {"name": "type", "valueCode": kind},
        {"name": "events-since-subscription-start", "valueString": str(state["events"])}]
    parameters += [_event_parameter(base, s, content) for s in shown]
    parameters += [{"name": "error", "valueCodeableConcept": {"text": text}}
                   for text in errors or []]
    status = {"resourceType": "Parameters", "id": status_id,
              "meta": {"profile": [STATUS_PROFILE]}, "parameter": parameters}
    entries = [{"fullUrl": f"urn:uuid:{status_id}", "resource": status,
                "request": {"method": "GET", "url": f"{base}/Subscription/{sid}/$status"},
                "response": {"status": "200"}}]
    if content == "full-resource":
        entries += [_entry(base, s) for s in shown if s.visible]
    return {"resourceType": "Bundle", "id": str(uuid.uuid4()),
            "meta": {"profile": [BUNDLE_PROFILE]}, "type": "history",
            "timestamp": clock.to_instant(clock.now()), "entry": entries}

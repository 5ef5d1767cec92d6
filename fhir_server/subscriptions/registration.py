"""Registering a Subscription written by a client (Backport IG profile
``backport-subscription``), inside the write's transaction (:mod:`fhir_server.write_rules`).

The Subscription is checked (a known topic, filters the topic allows and the server can
search, a supported channel and payload, an endpoint notifications may go to: 422 or 400
otherwise, and nothing is stored) and its registration is written with the **owner's
access context**: the token of whoever wrote this version, kept as export jobs keep theirs,
so every notification is decided through that owner's access policy when it is made
and when it is sent. The server decides the status: a new or changed rest-hook
channel is ``requested`` until its handshake succeeds, a websocket one ``active``,
``off`` when the client says so or ``end`` has passed; the resource is brought in line
by the dispatcher.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from .. import clock
from ..access import RequestPolicy
from ..dates import parse_instant
from ..errors import BusinessRuleViolation
from ..interactions import Caller
from ..storage import StoredResource
from .catalog import topics_of
from .criteria import FILTER_CRITERIA, Filter, parse_filter
from .endpoints import EndpointPolicy

__all__ = ["register", "Channel", "parse_channel", "CONTENT", "HEARTBEAT", "TIMEOUT",
           "MAX_COUNT"]

_IG = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
CONTENT = _IG + "backport-payload-content"
HEARTBEAT = _IG + "backport-heartbeat-period"
TIMEOUT = _IG + "backport-timeout"
MAX_COUNT = _IG + "backport-max-count"
CHANNEL_TYPE = _IG + "backport-channel-type"
_CONTENTS = ("empty", "id-only", "full-resource")
_MIME = ("application/fhir+json", "application/json")
DEFAULT_TIMEOUT = 10
MAX_TIMEOUT = 60


@dataclass(frozen=True)
class Channel:
    type: str
    endpoint: str | None
    headers: tuple[tuple[str, str], ...]
    mime: str
    content: str
    heartbeat: int | None
    timeout: int
    max_count: int


def _extension(element: dict[str, Any] | None, url: str) -> Any:
    for extension in (element or {}).get("extension", []):
        if isinstance(extension, dict) and extension.get("url") == url:
            return next((v for k, v in extension.items() if k.startswith("value")), None)
    return None


def _header(text: Any) -> tuple[str, str]:
    name, colon, value = str(text).partition(":")
    if not colon or not name.strip() or any(c in str(text) for c in "\r\n"):
        raise BusinessRuleViolation(f"channel.header '{str(text)[:80]}' must read "
                                    "'Name: value'")
    return name.strip(), value.strip()


def parse_channel(resource: dict[str, Any], endpoints: EndpointPolicy) -> Channel:
    """The Subscription's channel, checked (422 for what the server cannot do)."""
    channel = resource.get("channel") or {}
    kind = channel.get("type")
    if _extension(channel.get("_type"), CHANNEL_TYPE) is not None:
        raise BusinessRuleViolation("Custom channel types are not supported")
    if kind not in ("rest-hook", "websocket"):
        raise BusinessRuleViolation(f"Channel type '{str(kind)[:40]}' is not supported "
                                    "(rest-hook, websocket)")
    endpoint = channel.get("endpoint")
    if kind == "rest-hook":
        if not isinstance(endpoint, str):
            raise BusinessRuleViolation("A rest-hook channel needs an endpoint")
        endpoints.check_url(endpoint)
    mime = channel.get("payload")
    content = _extension(channel.get("_payload"), CONTENT)
    if mime is None:
        mime, content = "application/fhir+json", "empty"
    if mime not in _MIME:
        raise BusinessRuleViolation(f"Payload type '{str(mime)[:60]}' is not supported "
                                    "(application/fhir+json)")
    content = content or "id-only"
    if content not in _CONTENTS:
        raise BusinessRuleViolation(f"Payload content '{str(content)[:40]}' is not one of "
                                    f"{', '.join(_CONTENTS)}")
    heartbeat = _extension(channel, HEARTBEAT)
    timeout = _extension(channel, TIMEOUT) or DEFAULT_TIMEOUT
    max_count = _extension(channel, MAX_COUNT) or 1
    for name, value in (("heartbeatPeriod", heartbeat), ("timeout", timeout),
                        ("maxCount", max_count)):
        if value is not None and (not isinstance(value, int) or value < 1):
            raise BusinessRuleViolation(f"channel {name} must be a positive integer")
    return Channel(kind, endpoint, tuple(_header(h) for h in channel.get("header", [])),
                   mime, content, heartbeat, min(timeout, MAX_TIMEOUT), max_count)


def _filters(resource: dict[str, Any]) -> list[str]:
    texts = [e.get("valueString") for e in (resource.get("_criteria") or {}).get(
        "extension", []) if isinstance(e, dict) and e.get("url") == FILTER_CRITERIA]
    if any(not isinstance(t, str) for t in texts):
        raise BusinessRuleViolation("filterCriteria are strings")
    return texts


def _end(resource: dict[str, Any]) -> datetime | None:
    end = resource.get("end")
    return None if end is None else parse_instant(str(end), "Subscription.end")


async def _checked(caller: Caller, resource: dict[str, Any]) -> tuple[str, list[Filter]]:
    """The topic url and filters of a Subscription, checked against the topic."""
    url = resource.get("criteria")
    topic = (await topics_of(caller.services)).get(url) if isinstance(url, str) else None
    if topic is None:
        raise BusinessRuleViolation(f"Subscription.criteria '{str(url)[:200]}' is not a "
                                    "SubscriptionTopic this server knows "
                                    "(see docs/subscriptions.md)")
    filters = [parse_filter(text, topic) for text in _filters(resource)]
    for found in filters:
        await caller.services.search.query_filter(caller.policy, found.resource_type,
                                                  list(found.params))
    return topic.url, filters


def _status(requested: str, channel: Channel, end: datetime | None,
            previous: dict[str, Any] | None, restart: bool) -> str:
    if requested == "off" or (end is not None and end <= clock.now()):
        return "off"
    if channel.type == "websocket":
        return "active"
    if previous is not None and not restart and previous["status"] in ("active", "error"):
        return previous["status"]
    return "requested"


async def register(caller: Caller, stored: StoredResource,
                   session: AsyncClientSession) -> None:
    """Register (or, for a deletion, forget) the Subscription ``stored``."""
    storage = caller.services.storage
    if stored.resource is None:
        await storage.subscriptions.forget(stored.id, session)
        await storage.subscription_events.forget(stored.id, session)
        return
    resource = stored.resource
    topic, filters = await _checked(caller, resource)
    channel = parse_channel(resource, EndpointPolicy.for_server(caller.services.settings))
    end = _end(resource)
    previous = await storage.subscriptions.get(stored.id)
    configuration = {"topic": topic, "filters": [f.text for f in filters],
                     "channel": {**asdict(channel), "headers": [list(h) for h in
                                                                channel.headers]}}
    restart = previous is None or any(previous.get(k) != v for k, v in configuration.items())
    status = _status(str(resource.get("status")), channel, end, previous, restart)
    policy = caller.policy
    await storage.subscriptions.register({
        "_id": stored.id, "version": stored.vid, **configuration, "end": end,
        "owner": policy.owner(), "purpose": (policy.consent.purpose if isinstance(
            policy, RequestPolicy) and policy.consent else None),
        "access": (policy.token.context.to_document() if isinstance(policy, RequestPolicy)
                   else None),
        "status": status, "sync": status != resource.get("status")}, session,
        restart=restart)

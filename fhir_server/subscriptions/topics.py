"""SubscriptionTopics in R4: ``Basic`` resources in the Subscriptions R5 Backport IG's
cross-version representation (code ``http://hl7.org/fhir/fhir-types#SubscriptionTopic``,
the R5 elements as ``extension-SubscriptionTopic.*`` extensions; the IG's
``Basic-r4-encounter-complete`` is the model). http://hl7.org/fhir/uv/subscriptions-backport/

What is used of a topic: ``url``, ``status``, ``resourceTrigger`` (``resource``,
``supportedInteraction``, ``queryCriteria`` with ``previous``/``current``/
``resultForCreate``/``resultForDelete``/``requireBoth``, ``fhirPathCriteria``) and
``canFilterBy`` (``resource``, ``filterParameter``, ``modifier``). ``notificationShape``
is not: notifications carry the focus resource only.

The shipped topics (``topics/*.json``) are always known; a deployment adds its own by
storing more such ``Basic`` resources (they win over a shipped one with the same url).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from profiles.definitions import resource_types

__all__ = ["Topic", "Trigger", "QueryCriteria", "FilterBy", "parse_topic", "shipped_topics",
           "TOPIC_CODE", "TopicError"]

TOPIC_CODE = "http://hl7.org/fhir/fhir-types|SubscriptionTopic"
_ELEMENT = "extension-SubscriptionTopic."
_FOLDER = Path(__file__).with_name("topics")
_INTERACTIONS = frozenset({"create", "update", "delete"})


class TopicError(ValueError):
    """A Basic resource claims to be a SubscriptionTopic but cannot be used as one."""


@dataclass(frozen=True)
class QueryCriteria:
    """R5 ``SubscriptionTopic.resourceTrigger.queryCriteria``: search criteria on the
    previous and the current version of the resource."""

    previous: str | None = None
    current: str | None = None
    result_for_create: bool = True  # test-passes
    result_for_delete: bool = True
    require_both: bool = False


@dataclass(frozen=True)
class Trigger:
    resource_type: str
    interactions: frozenset[str]
    criteria: QueryCriteria | None = None
    fhirpath: str | None = None


@dataclass(frozen=True)
class FilterBy:
    resource_type: str | None
    parameter: str
    modifiers: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Topic:
    url: str
    title: str
    status: str
    triggers: tuple[Trigger, ...]
    filters: tuple[FilterBy, ...]

    def triggers_for(self, resource_type: str) -> list[Trigger]:
        return [t for t in self.triggers if t.resource_type == resource_type]

    @property
    def resource_types(self) -> set[str]:
        return {t.resource_type for t in self.triggers}

    def allows_filter(self, resource_type: str, parameter: str, modifier: str | None) -> bool:
        """Whether a subscription may filter this topic's events on ``parameter``: any
        search parameter when the topic lists no ``canFilterBy``, else a listed one."""
        if not self.filters:
            return True
        return any(f.parameter == parameter and f.resource_type in (None, resource_type)
                   and (modifier is None or modifier in f.modifiers) for f in self.filters)


def _element(extension: dict[str, Any]) -> str | None:
    url = str(extension.get("url", ""))
    return url.split(_ELEMENT, 1)[1] if _ELEMENT in url else None


def _value(extension: dict[str, Any]) -> Any:
    return next((v for k, v in extension.items() if k.startswith("value")), None)


def _parts(extension: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(str(e.get("url")), e) for e in extension.get("extension", [])
            if isinstance(e, dict)]


def _type_of(uri: Any) -> str:
    name = str(uri or "").rsplit("/", 1)[-1]
    if name not in resource_types():
        raise TopicError(f"unknown resource type '{str(uri)[:80]}' in a SubscriptionTopic")
    return name


def _result(value: Any) -> bool:
    if value not in ("test-passes", "test-fails"):
        raise TopicError(f"queryCriteria result must be test-passes or test-fails, not "
                         f"'{str(value)[:40]}'")
    return value == "test-passes"


def _criteria(extension: dict[str, Any]) -> QueryCriteria:
    values = {url: _value(part) for url, part in _parts(extension)}
    return QueryCriteria(
        previous=values.get("previous"), current=values.get("current"),
        result_for_create=_result(values.get("resultForCreate", "test-passes")),
        result_for_delete=_result(values.get("resultForDelete", "test-passes")),
        require_both=bool(values.get("requireBoth", False)))


def _trigger(extension: dict[str, Any]) -> Trigger:
    resource_type, interactions, criteria, fhirpath = None, set(), None, None
    for url, part in _parts(extension):
        if url == "resource":
            resource_type = _type_of(_value(part))
        elif url == "supportedInteraction":
            interactions.add(_value(part))
        elif url == "queryCriteria":
            criteria = _criteria(part)
        elif url == "fhirPathCriteria":
            fhirpath = _value(part)
    if resource_type is None:
        raise TopicError("a resourceTrigger needs a resource")
    if not interactions <= _INTERACTIONS:
        raise TopicError(f"unknown supportedInteraction {sorted(interactions - _INTERACTIONS)}")
    return Trigger(resource_type, frozenset(interactions or _INTERACTIONS), criteria, fhirpath)


def _filter(extension: dict[str, Any]) -> FilterBy:
    values = _parts(extension)
    resource = next((_value(p) for u, p in values if u == "resource"), None)
    parameter = next((_value(p) for u, p in values if u == "filterParameter"), None)
    if not isinstance(parameter, str):
        raise TopicError("a canFilterBy needs a filterParameter")
    modifiers = frozenset(_value(p) for u, p in values if u == "modifier")
    return FilterBy(_type_of(resource) if resource else None, parameter, modifiers)


def parse_topic(basic: dict[str, Any]) -> Topic:
    """The topic a ``Basic`` resource represents (:class:`TopicError` when unusable)."""
    fields: dict[str, Any] = {}
    triggers: list[Trigger] = []
    filters: list[FilterBy] = []
    for extension in [*basic.get("extension", []), *basic.get("modifierExtension", [])]:
        element = _element(extension) if isinstance(extension, dict) else None
        if element == "resourceTrigger":
            triggers.append(_trigger(extension))
        elif element == "canFilterBy":
            filters.append(_filter(extension))
        elif element is not None:
            fields[element] = _value(extension)
    url = fields.get("url")
    if not isinstance(url, str) or not url:
        raise TopicError("a SubscriptionTopic needs a url")
    if not triggers:
        raise TopicError(f"SubscriptionTopic {url} has no resourceTrigger")
    return Topic(url, str(fields.get("title") or fields.get("name") or url),
                 str(fields.get("status") or "active"), tuple(triggers), tuple(filters))


@cache
def shipped_resources() -> tuple[dict[str, Any], ...]:
    """The shipped topics as the Basic resources stored with the shipped content."""
    return tuple(json.loads(p.read_text()) for p in sorted(_FOLDER.glob("*.json")))


@cache
def shipped_topics() -> dict[str, Topic]:
    return {topic.url: topic for topic in map(parse_topic, shipped_resources())}

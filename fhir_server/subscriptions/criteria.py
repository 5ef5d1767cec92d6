"""A Subscription's filter criteria (Backport IG extension ``backport-filter-criteria`` on
``Subscription.criteria``): search-style filters ``Type?param=value&...`` that narrow the
topic's events, each applying to the events of its resource type; several are ANDed.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

from ..errors import BusinessRuleViolation
from .topics import Topic

__all__ = ["Filter", "parse_filter", "FILTER_CRITERIA"]

FILTER_CRITERIA = ("http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
                   "backport-filter-criteria")
_CONTROL = ("_format", "_pretty")


@dataclass(frozen=True)
class Filter:
    resource_type: str
    params: tuple[tuple[str, str], ...]

    @property
    def text(self) -> str:
        return self.resource_type + "?" + "&".join(f"{k}={v}" for k, v in self.params)


def parse_filter(text: str, topic: Topic) -> Filter:
    """One filter criteria string, checked against the topic: a resource type the topic
    triggers on, parameters the topic allows filtering by (422 otherwise)."""
    resource_type, mark, query = text.strip().partition("?")
    if not mark:
        if "=" not in resource_type or len(topic.resource_types) != 1:
            raise BusinessRuleViolation(
                f"Filter criteria '{text[:120]}' must read Type?parameter=value")
        resource_type, query = next(iter(topic.resource_types)), resource_type
    if resource_type not in topic.resource_types:
        raise BusinessRuleViolation(
            f"Filter criteria '{text[:120]}': topic {topic.url} has no events on "
            f"{resource_type[:60]} (it has {', '.join(sorted(topic.resource_types))})")
    params = tuple((k, v) for k, v in parse_qsl(query, keep_blank_values=True)
                   if k not in _CONTROL)
    if not params:
        raise BusinessRuleViolation(f"Filter criteria '{text[:120]}' has no parameter")
    for name, _ in params:
        code, _, modifier = name.partition(":")
        if not topic.allows_filter(resource_type, code, modifier or None):
            allowed = ", ".join(sorted(f.parameter for f in topic.filters))
            raise BusinessRuleViolation(
                f"Topic {topic.url} cannot be filtered by '{name[:60]}' (it allows: "
                f"{allowed})")
    return Filter(resource_type, params)

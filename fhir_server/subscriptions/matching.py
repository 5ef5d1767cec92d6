"""Which subscriptions a batch of committed versions notifies.

A version notifies a subscription when all of these hold (R5 SubscriptionTopic semantics,
https://hl7.org/fhir/R5/subscriptiontopic.html):

1. it was written after the subscription was registered;
2. a ``resourceTrigger`` of the topic for its resource type lists its interaction
   (create, update, delete) and its ``queryCriteria`` pass: ``current`` on this version,
   ``previous`` on the version before it (``resultForCreate``/``resultForDelete`` stand
   in for the missing one; with both present, ``requireBoth`` says AND or OR), and its
   ``fhirPathCriteria`` (``%current``, ``%previous``) is true;
3. every filter criteria of the subscription for that resource type matches;
4. the subscription's owner may read the resource now (a deletion: the version it
   deleted), through the owner's access policy: an owner who may not see a patient gets
   no event about that patient, so not even the event count says anything about them.

Criteria and filters are search queries, compiled by the search engine and run on the
search index stored with each version, a few queries per batch, not per version.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl

from ..access import SYSTEM, AccessPolicy
from ..errors import FhirError
from ..storage.subscription_outbox import Version
from .owner import owner_policy
from .topics import Topic, Trigger

__all__ = ["BatchMatcher"]

log = logging.getLogger("fhir_server.subscriptions")


def _fhirpath(expression: str, current: dict[str, Any] | None,
              previous: dict[str, Any] | None) -> bool:
    import fhirpathpy

    try:
        result = fhirpathpy.evaluate(current or previous or {}, expression,
                                     {"current": current or {}, "previous": previous or {}})
    except Exception:  # fhirpathpy raises plain Exceptions on bad expressions
        log.warning("fhirPathCriteria '%s' could not be evaluated", expression[:200])
        return False
    return result == [True]


class BatchMatcher:
    """The matching of one batch of versions (queries are shared by the subscriptions
    that use the same topic)."""

    def __init__(self, services: Any, versions: list[Version]) -> None:
        self.services = services
        self.versions = versions
        self.previous: dict[str, Version] = {}
        self._criteria: dict[tuple[str, str, bool], set[str]] = {}

    async def load_previous(self) -> None:
        keys = [v.previous_key for v in self.versions
                if v.previous_key and v.interaction != "create"]
        self.previous = await self.services.storage.outbox.versions(keys)

    async def _passing(self, resource_type: str, criteria: str, previous: bool) -> set[str]:
        """Keys of the batch's versions of a type (or of their previous versions) that
        match a topic's search criteria: one query per criteria and batch."""
        cache_key = (resource_type, criteria, previous)
        if cache_key not in self._criteria:
            pool = self.previous.values() if previous else self.versions
            keys = [v.key for v in pool if v.resource_type == resource_type]
            condition = await self.services.search.query_filter(
                SYSTEM, resource_type, parse_qsl(criteria, keep_blank_values=True))
            self._criteria[cache_key] = await self.services.storage.outbox.matching(
                keys, condition)
        return self._criteria[cache_key]

    async def _triggered(self, trigger: Trigger, version: Version) -> bool:
        if version.interaction not in trigger.interactions:
            return False
        before = self.previous.get(version.previous_key or "")
        criteria = trigger.criteria
        if criteria is not None:
            results = []
            if criteria.current is not None:
                if version.interaction == "delete":
                    results.append(criteria.result_for_delete)
                else:
                    results.append(version.key in await self._passing(
                        trigger.resource_type, criteria.current, False))
            if criteria.previous is not None:
                if version.interaction == "create" or before is None:
                    results.append(criteria.result_for_create)
                else:
                    results.append(before.key in await self._passing(
                        trigger.resource_type, criteria.previous, True))
            if results and not (all(results) if criteria.require_both else any(results)):
                return False
        if trigger.fhirpath is not None:
            return _fhirpath(trigger.fhirpath, version.resource,
                             before.resource if before else None)
        return True

    async def _filtered(self, policy: AccessPolicy, state: dict[str, Any],
                        candidates: list[Version]) -> set[str]:
        """Keys of the candidates every filter of the subscription (for their type)
        matches; chains in filters see only what the owner may see."""
        kept = {c.key for c in candidates}
        for text in state.get("filters", []):
            resource_type, _, query = text.partition("?")
            keys = [c.key for c in candidates if c.resource_type == resource_type]
            if not keys:
                continue
            condition = await self.services.search.query_filter(
                policy, resource_type, parse_qsl(query, keep_blank_values=True))
            kept -= set(keys) - await self.services.storage.outbox.matching(keys, condition)
        return kept

    async def notified(self, state: dict[str, Any], topic: Topic) -> list[Version]:
        """The batch's versions that notify this subscription, in batch order."""
        candidates = [v for v in self.versions if v.moment >= state["created"]
                      and topic.triggers_for(v.resource_type)]
        if not candidates:
            return []
        triggered = []
        for version in candidates:
            for trigger in topic.triggers_for(version.resource_type):
                if await self._triggered(trigger, version):
                    triggered.append(version)
                    break
        if not triggered:
            return []
        policy = owner_policy(self.services, state)
        try:
            kept = await self._filtered(policy, state, triggered)
        except FhirError as error:
            log.warning("Subscription/%s: its filters no longer compile (%s)", state["_id"],
                        error.message)
            return []
        triggered = [v for v in triggered if v.key in kept]
        visible = await self.services.storage.outbox.visible(policy, triggered)
        return [v for v in triggered if v.key in visible]

"""The SubscriptionTopics in force: the shipped ones and the deployment's own (``Basic``
resources coded ``SubscriptionTopic``, stored like any resource; a stored topic with a
shipped topic's url replaces it). Topics are server configuration, read with the
server's own policy, and only ``active`` (or ``draft``) ones accept subscriptions."""

from __future__ import annotations

import logging
from typing import Any

from ..access import SYSTEM
from .topics import TOPIC_CODE, Topic, TopicError, parse_topic, shipped_topics

__all__ = ["topics_of", "MAX_TOPICS"]

log = logging.getLogger("fhir_server.subscriptions")
MAX_TOPICS = 500
_USABLE = ("active", "draft")


async def topics_of(services: Any) -> dict[str, Topic]:
    """Topic url -> topic."""
    found = dict(shipped_topics())
    stored = await services.search.resources(SYSTEM, "Basic", [("code", TOPIC_CODE)],
                                             limit=MAX_TOPICS)
    for basic in stored:
        try:
            topic = parse_topic(basic)
        except TopicError as error:
            log.warning("Basic/%s is not a usable SubscriptionTopic: %s", basic.get("id"),
                        error)
            continue
        found[topic.url] = topic
    return {url: topic for url, topic in found.items() if topic.status in _USABLE}

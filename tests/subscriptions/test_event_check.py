"""The check the 1,000-write test (test_two_processes.py) applies to what a rest-hook
endpoint and a websocket client received: it accepts exactly "every event once, in
order" and rejects a gap, a duplicate, a swap, a missing or foreign focus."""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import check_every_event_once


def _bundle(*events: tuple[int, str]) -> dict[str, Any]:
    """An event-notification Bundle with these (number, focus id) events."""
    parameters = [{"name": "type", "valueCode": "event-notification"}]
    parameters += [{"name": "notification-event", "part": [
        {"name": "event-number", "valueString": str(number)},
        {"name": "focus", "valueReference": {"reference": f"Observation/{focus}"}}]}
        for number, focus in events]
    return {"resourceType": "Bundle", "type": "history",
            "entry": [{"resource": {"resourceType": "Parameters", "parameter": parameters}}]}


HANDSHAKE = {"resourceType": "Bundle", "entry": [{"resource": {
    "resourceType": "Parameters", "parameter": [{"name": "type", "valueCode": "handshake"}]}}]}
WRITTEN = ["a", "b", "c", "d"]


def test_every_event_once_in_order_passes():
    check_every_event_once([HANDSHAKE, _bundle((1, "a"), (2, "b")), _bundle((3, "c")),
                            _bundle((4, "d"))], WRITTEN)
    check_every_event_once([_bundle((1, "b"), (2, "a"), (3, "d"), (4, "c"))], WRITTEN)


@pytest.mark.parametrize("bundles", [
    [_bundle((1, "a"), (2, "b"), (4, "d"))],                      # a gap
    [_bundle((1, "a"), (2, "b")), _bundle((2, "b"), (3, "c"), (4, "d"))],  # a repeat
    [_bundle((1, "a"), (3, "c"), (2, "b"), (4, "d"))],            # out of order
    [_bundle((1, "a"), (2, "b"), (3, "c"), (4, "d"), (5, "e"))],  # one too many
    [_bundle((1, "a"), (2, "b"), (3, "c"), (4, "c"))],            # one focus twice
    [_bundle((1, "a"), (2, "b"), (3, "c"), (4, "x"))],            # a foreign focus
    [HANDSHAKE],                                                  # nothing
])
def test_anything_else_fails(bundles):
    with pytest.raises(AssertionError):
        check_every_event_once(bundles, WRITTEN)

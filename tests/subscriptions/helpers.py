"""Building Subscriptions and reading notification Bundles in tests."""

from __future__ import annotations

from typing import Any

IG = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
TOPICS = "https://mch-fhir.org/fhir/SubscriptionTopic/"


def subscription(topic: str, *, endpoint: str | None = None, channel: str = "rest-hook",
                 content: str = "id-only", filters: list[str] | None = None,
                 heartbeat: int | None = None, max_count: int | None = None,
                 headers: list[str] | None = None) -> dict[str, Any]:
    channel_element: dict[str, Any] = {
        "type": channel, "payload": "application/fhir+json",
        "_payload": {"extension": [{"url": IG + "backport-payload-content",
                                    "valueCode": content}]}}
    if endpoint is not None:
        channel_element["endpoint"] = endpoint
    extensions = []
    if heartbeat is not None:
        extensions.append({"url": IG + "backport-heartbeat-period",
                           "valueUnsignedInt": heartbeat})
    if max_count is not None:
        extensions.append({"url": IG + "backport-max-count", "valuePositiveInt": max_count})
    if extensions:
        channel_element["extension"] = extensions
    if headers:
        channel_element["header"] = headers
    resource: dict[str, Any] = {
        "resourceType": "Subscription", "status": "requested", "reason": "test",
        "criteria": TOPICS + topic, "channel": channel_element}
    if filters:
        resource["_criteria"] = {"extension": [
            {"url": IG + "backport-filter-criteria", "valueString": f} for f in filters]}
    return resource


def status_of(bundle: dict[str, Any]) -> dict[str, Any]:
    """The status Parameters of a notification Bundle, as {name: value or [parts]}."""
    parameters = bundle["entry"][0]["resource"]["parameter"]
    found: dict[str, Any] = {"notification-event": []}
    for parameter in parameters:
        if parameter["name"] == "notification-event":
            found["notification-event"].append(
                {p["name"]: next(v for k, v in p.items() if k.startswith("value"))
                 for p in parameter["part"]})
        else:
            found[parameter["name"]] = next(v for k, v in parameter.items()
                                            if k.startswith("value"))
    return found


def kind(bundle: dict[str, Any]) -> str:
    return status_of(bundle)["type"]


def events(bundles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every notification-event of the event notifications, in arrival order."""
    return [e for b in bundles if kind(b) == "event-notification"
            for e in status_of(b)["notification-event"]]


def numbers(bundles: list[dict[str, Any]]) -> list[int]:
    return [int(e["event-number"]) for e in events(bundles)]


def check_every_event_once(bundles: list[dict[str, Any]], written: list[str]) -> None:
    """Every write notified exactly once, numbered 1..n in arrival order: no gap, no
    duplicate, nothing out of order, and the focus of the events is exactly the written
    resources (AssertionError naming what is wrong)."""
    got = numbers(bundles)
    expected = list(range(1, len(written) + 1))
    if got != expected:
        seen = set(got)
        missing = [n for n in expected if n not in seen][:10]
        repeated = sorted({n for n in got if got.count(n) > 1})[:10]
        raise AssertionError(f"event numbers are not 1..{len(written)} in order: "
                             f"{len(got)} received, missing {missing}, repeated {repeated}")
    focus = [e["focus"]["reference"].rsplit("/", 1)[-1] for e in events(bundles)]
    if sorted(focus) != sorted(written):
        raise AssertionError("the events' focus is not exactly the written resources")


def observation(patient: str, code: str = "8867-4", status: str = "final",
                category: str = "vital-signs") -> dict[str, Any]:
    return {"resourceType": "Observation", "status": status,
            "category": [{"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                "code": category}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "subject": {"reference": f"Patient/{patient}"},
            "valueQuantity": {"value": 72, "unit": "/min", "system": "http://unitsofmeasure.org",
                              "code": "/min"}}

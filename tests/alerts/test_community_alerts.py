"""``$community-alert-scan`` (docs/community-alerts.md) end to end with ``--auth smart``:
an outbreak (cases gathered in one district over two weeks) raises exactly one alert, a
re-run raises no second one, and a subscriber to the ``community-alert`` topic receives
it; scattered cases raise none; small counts are suppressed; a patient whose Consent
refuses public-health use is not counted; only public health may scan."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.subscriptions.helpers import events, kind, subscription
from tests.subscriptions.receiver import Receiver

from .conftest import PUBLIC_HEALTH_SCOPES, VALUE_SETS, Population, areas, token

SCAN = "Condition/$community-alert-scan"


def _today():
    return datetime.now(UTC).date()


async def _alerts(http, headers, people: Population) -> list[dict]:
    """The alerts about the test's own value set."""
    bundle = (await http.get("DetectedIssue", headers=headers)).json()
    return [e["resource"] for e in bundle.get("entry", [])
            if people.value_set in str(e["resource"]["extension"])]


async def test_an_outbreak_raises_one_alert_that_a_subscriber_receives(smart_app, http,
                                                                       writer):
    today = _today()
    people = Population(writer, today, "outbreak")
    people.add_value_set()
    outbreak = [people.case(district="Jaipur", days_ago=d) for d in range(0, 13, 2)]
    outbreak.append(people.case(district=" jaipur ", days_ago=3, recorded=True))
    refused = people.case(district="Jaipur", days_ago=4, refuses=True)
    people.case(district="Jaipur", days_ago=20)  # the baseline: one case before
    people.case(district="Ajmer", days_ago=5)
    people.case(postal_code="302001", days_ago=6)
    people.case(district="Jaipur", days_ago=2, code="840539006")  # not in the set
    await people.store()
    health = await token(smart_app, PUBLIC_HEALTH_SCOPES)
    subscriber = await token(smart_app, "system/DetectedIssue.rs system/Subscription.cruds")
    hook = await Receiver().start()
    try:
        created = await http.post("Subscription", headers=subscriber, json=subscription(
            "community-alert", endpoint=hook.url, content="full-resource"))
        assert created.status_code == 201, created.text
        await hook.wait_for(lambda b: any(kind(x) == "handshake" for x in b))

        answer = await http.post(SCAN, headers=health, json=people.scan())
        assert answer.status_code == 200, answer.text
        found = areas(answer.json())
        assert set(found) == {"Jaipur", "Ajmer", "302001"}
        jaipur = found["Jaipur"]
        assert jaipur["type"] == "district" and jaipur["count"] == len(outbreak) == 8
        assert jaipur["raised"] is True
        assert found["Ajmer"]["count"] == found["302001"]["count"] == "<5"
        assert found["302001"]["type"] == "postalCode"
        assert "alert" not in found["Ajmer"] and "baselineMean" not in found["Ajmer"]

        delivered = await hook.wait_for(lambda b: len(events(b)) >= 1)
        alert_id = jaipur["alert"]["reference"]
        assert [e["focus"]["reference"].endswith(alert_id) for e in events(delivered)] == [True]
        alert = next(e["resource"] for b in delivered if kind(b) == "event-notification"
                     for e in b["entry"][1:])
        assert alert["resourceType"] == "DetectedIssue"
        assert alert["identifiedPeriod"]["end"] == today.isoformat()
        shown = {e["url"]: next(v for k, v in e.items() if k.startswith("value"))
                 for e in alert["extension"][0]["extension"]}
        assert shown["area"] == "Jaipur" and shown["count"] == 8
        assert "Patient" not in str(alert) and refused not in str(alert)
        assert not any(pid in str(answer.json()) for pid in outbreak)

        again = await http.post(SCAN, headers=health, json=people.scan())
        assert again.status_code == 200, again.text
        repeated = areas(again.json())["Jaipur"]
        assert repeated["alert"] == jaipur["alert"] and repeated["raised"] is False
        assert len(await _alerts(http, health, people)) == 1
        gone = await http.delete(f"Subscription/{created.json()['id']}", headers=subscriber)
        assert gone.status_code == 200, gone.text
    finally:
        await hook.stop()


async def test_scattered_cases_raise_none_and_small_counts_are_suppressed(smart_app, http,
                                                                          writer):
    today = _today()
    people = Population(writer, today, "scattered")
    people.add_value_set()
    for number, district in enumerate(["Alwar", "Bikaner", "Churu", "Dausa", "Jhunjhunu",
                                       "Kota", "Sikar", "Tonk"]):
        for day in range(1 + number % 3):
            people.case(district=district, days_ago=day * 5)
    # five cases, one of them refusing public-health use: four count, suppressed
    for day in range(4):
        people.case(district="Barmer", days_ago=day)
    people.case(district="Barmer", days_ago=5, refuses=True)
    # a steady area: six now, about six in each window before: no alert
    for window, cases in enumerate([6, 6, 5, 7, 6]):
        for case in range(cases):
            people.case(district="Udaipur", days_ago=14 * window + case)
    await people.store()
    health = await token(smart_app, PUBLIC_HEALTH_SCOPES)
    answer = await http.post(SCAN, headers=health, json=people.scan())
    assert answer.status_code == 200, answer.text
    found = areas(answer.json())
    assert len(found) == 10
    assert all(found[d]["count"] == "<5" for d in found if d != "Udaipur")
    assert found["Udaipur"]["count"] == 6 and found["Udaipur"]["baselineMean"] == 6.0
    assert found["Udaipur"]["threshold"] > 6
    assert not any("alert" in a for a in found.values())
    assert await _alerts(http, health, people) == []
    # a caller may raise the minimum cell size, never lower it (below)
    stricter = await http.post(SCAN, headers=health, json=people.scan(
        minimumCellSize=7))
    assert areas(stricter.json())["Udaipur"]["count"] == "<7"


async def test_only_public_health_may_scan_and_bad_requests_are_400(smart_app, http, writer,
                                                                    monkeypatch):
    today = _today()
    people = Population(writer, today, "access")
    people.add_value_set()
    await people.store()
    body = people.scan()
    care = await token(smart_app, PUBLIC_HEALTH_SCOPES, purposes=("TREAT",))
    ungranted = await token(smart_app, PUBLIC_HEALTH_SCOPES, purposes=())
    for headers in (care, ungranted, {**ungranted, "X-Purpose-Of-Use": "PUBHLTH"}):
        refused = await http.post(SCAN, headers=headers, json=body)
        assert refused.status_code == 403, refused.text
        assert refused.json()["resourceType"] == "OperationOutcome"
    no_patients = await token(smart_app, "system/Condition.rs")
    assert (await http.post(SCAN, headers=no_patients, json=body)).status_code == 403
    # a practitioner in a public-health role (FHIR_PUBLIC_HEALTH_ROLES) may
    await writer.update({"resourceType": "Practitioner", "id": "epi"}, "epi")
    await writer.update({"resourceType": "PractitionerRole", "id": "epi-role",
                         "practitioner": {"reference": "Practitioner/epi"},
                         "code": [{"coding": [{"code": "epidemiologist"}]}]}, "epi-role")
    staff = await token(smart_app, "user/Condition.rs user/Patient.rs", purposes=(),
                        fhir_user="Practitioner/epi", kind="user")
    staff = {**staff, "X-Purpose-Of-Use": "PUBHLTH"}
    assert (await http.post(SCAN, headers=staff, json=body)).status_code == 403
    settings = smart_app.state.services.settings
    monkeypatch.setattr(settings, "public_health_roles", frozenset({"epidemiologist"}))
    allowed = await http.post(SCAN, headers=staff, json=body)
    assert allowed.status_code == 200, allowed.text
    health = await token(smart_app, PUBLIC_HEALTH_SCOPES)
    assert (await http.get(SCAN, headers=health)).status_code == 405  # it writes alerts
    for bad in (people.scan(windowDays=0), people.scan(baselineWindows=99),
                people.scan(minimumCellSize=2), people.scan(standardDeviations="lots"),
                people.scan(colour="red"), {"resourceType": "Parameters", "parameter": [
                    {"name": "valueSet", "valueUri": people.value_set},
                    {"name": "windowEnd", "valueString": "yesterday"}]},
                {"resourceType": "Parameters", "parameter": []}):
        answer = await http.post(SCAN, headers=health, json=bad)
        assert answer.status_code == 400, (bad, answer.text)
        assert answer.json()["resourceType"] == "OperationOutcome"
    unknown = {"resourceType": "Parameters", "parameter": [
        {"name": "valueSet", "valueUri": VALUE_SETS + "none"}]}
    assert (await http.post(SCAN, headers=health, json=unknown)).status_code == 404

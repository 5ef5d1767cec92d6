"""A clinician's pages in a real browser: patient search, a seeded pregnancy's contact
timeline, trends and flags, a child's growth chart whose points sit where their
``$growth`` z-scores say (read from Chart.js's own scales and elements), and the
immunization card.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from selenium.webdriver.common.by import By

from .conftest import Browser, WebServer

pytestmark = pytest.mark.slow

DAYS_PER_MONTH = 30.4375
CHART = "Chart.getChart(document.getElementById(arguments[0]))"


def _search(browser: Browser, field: str, value: str) -> list[str]:
    for name in ("name", "identifier", "birthdate"):
        browser.driver.find_element(By.ID, name).clear()
    element = browser.driver.find_element(By.ID, field)
    if field == "birthdate":  # a date input takes the date as the browser's locale types it
        browser.driver.execute_script("arguments[0].value = arguments[1]", element, value)
    else:
        element.send_keys(value)
    browser.driver.execute_script(
        "document.getElementById('patient-results').dataset.ready = ''")
    browser.driver.find_element(By.CSS_SELECTOR, "#patient-search button[type=submit]").click()
    browser.wait(lambda d: d.find_element(By.ID, "patient-results").get_attribute("data-ready"),
                 "search results")
    return [a.text for a in browser.css("#patient-results a.patient-link")]


@pytest.fixture(scope="module")
def clinician(browser: Browser) -> Browser:
    browser.sign_in("dr.rao", "#/patients")
    return browser


def test_patient_search_by_name_identifier_and_birth_date(clinician: Browser,
                                                          web_server: WebServer):
    assert clinician.unlabelled_fields() == []
    assert _search(clinician, "name", "Devi") == ["Sunita Devi"]
    assert _search(clinician, "identifier", "MCH-0003") == ["Ravi Kumar"]
    assert _search(clinician, "birthdate", web_server.seed.child_birth.isoformat()) == [
        "Ravi Kumar"]
    assert _search(clinician, "name", "Hassan") == []   # opt-in: Amina allowed no one


def test_pregnancy_timeline_shows_the_contacts_of_the_seeded_pregnancy(clinician: Browser,
                                                                       web_server: WebServer):
    clinician.go("#/patient/sunita/pregnancy")
    contacts = clinician.css("#contacts li")
    # 200 days today; visits on days 60 and 140 (WHO 2016 contacts 1 and 2); contact 3
    # (26 weeks, day 182) more than 14 days past due; contact 4 (day 210) within 14 days
    assert [c.get_attribute("data-status") for c in contacts] == [
        "done", "done", "overdue", "due", "upcoming", "upcoming", "upcoming", "upcoming"]
    for contact, visit in zip(contacts[:2], web_server.seed.visits, strict=True):
        assert visit.strftime("%-d %b %Y") in contact.text, contact.text
    facts = clinician.driver.find_element(By.ID, "pregnancy-facts").text
    edd = web_server.seed.pregnancy_start + timedelta(days=280)
    age = (datetime.now(UTC).date() - web_server.seed.pregnancy_start).days  # 200 but at midnight
    assert f"{age // 7} weeks {age % 7} days" in facts, facts
    assert edd.strftime("%-d %b %Y") in facts, facts
    flags = clinician.driver.find_element(By.ID, "risk-flags").text
    assert "High blood pressure" in flags and "Anaemia" in flags, flags
    systolic = clinician.driver.execute_script(
        f"return {CHART}.data.datasets[0].data.map(p => p.y)", "chart-bp")
    assert systolic == [118, 150]
    clinician.screenshot("pregnancy")


def _z_from_pixels(curves: list[dict], px: float, py: float) -> float:
    """The z-score at pixel (px, py) between the drawn centile curves: each curve's y at px
    from its own plotted elements, then linear between the two curves around py."""
    at_x = []
    for curve in curves:
        points = curve["pixels"]
        for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
            if x0 <= px <= x1:
                at_x.append((curve["z"], y0 + (y1 - y0) * (px - x0) / (x1 - x0)))
                break
    at_x.sort()
    for (z0, y0), (z1, y1) in zip(at_x, at_x[1:], strict=False):
        if y1 <= py <= y0:  # pixels grow downwards: a higher centile has a smaller y
            return z0 + (z1 - z0) * (y0 - py) / (y0 - y1)
    raise AssertionError(f"point ({px}, {py}) outside the drawn curves {at_x}")


def test_growth_points_sit_where_their_z_scores_say(clinician: Browser,
                                                    web_server: WebServer):
    clinician.go("#/patient/ravi/growth")
    clinician.wait(lambda d: d.find_element(By.ID, "growth-figure").get_attribute(
        "data-ready") == "wfa:0-24", "the weight-for-age chart")
    drawn = clinician.driver.execute_script(f"""
        const chart = {CHART};
        return chart.data.datasets.map((dataset, i) => ({{
          child: Boolean(dataset.child), z: dataset.z ?? null,
          pixels: chart.getDatasetMeta(i).data.map(e => [e.x, e.y]),
          observations: dataset.data.map(p => p.observation ?? null),
          xPixels: dataset.data.map(p => chart.scales.x.getPixelForValue(p.x))}}));
        """, "growth-chart")
    child = next(d for d in drawn if d["child"])
    curves = [d for d in drawn if not d["child"]]
    assert [c["z"] for c in curves] == pytest.approx([-1.8808, -1.0364, 0, 1.0364, 1.8808],
                                                     abs=1e-4)
    growth = web_server.get("Patient/ravi/$growth", "Practitioner/meera-rao").json()
    expected = {}
    for measurement in growth["parameter"]:
        parts = {p["name"]: p for p in measurement.get("part", [])}
        if parts.get("indicator", {}).get("valueCode") == "wfa":
            expected[parts["observation"]["valueReference"]["reference"]] = float(
                parts["zScore"]["valueDecimal"])
    assert sorted(child["observations"]) == sorted(expected)
    x_scale = f"{CHART}.scales.x.getPixelForValue(arguments[1])"
    for (px, py), observation in zip(child["pixels"], child["observations"], strict=True):
        day = int(observation.rsplit("-", 1)[1])
        age_pixel = clinician.driver.execute_script(f"return {x_scale}", "growth-chart",
                                                    day / DAYS_PER_MONTH)
        assert px == pytest.approx(age_pixel, abs=0.5)
        assert _z_from_pixels(curves, px, py) == pytest.approx(expected[observation], abs=0.05)

    # hovering a point (the browser's own mouse input at its pixel) shows its z-score
    px, py = child["pixels"][-1]
    left, top = clinician.driver.execute_script(
        "const r = document.getElementById(arguments[0]).getBoundingClientRect();"
        "return [r.left, r.top]", "growth-chart")
    clinician.driver.execute_cdp_cmd("Input.dispatchMouseEvent", {
        "type": "mouseMoved", "x": left + px, "y": top + py})
    lines = clinician.wait(lambda d: d.execute_script(
        f"const t = {CHART}.tooltip; return t.opacity > 0 && "
        "t.body.flatMap(b => b.lines)", "growth-chart"), "the tooltip")
    last = child["observations"][-1]
    assert f"z = {expected[last]:.2f}" in " ".join(lines), lines
    clinician.screenshot("growth")
    rows = clinician.css("#growth-table tbody tr")
    assert len(rows) == len(expected)

    # printed: no navigation or buttons, the chart at paper size
    clinician.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    clinician.wait(lambda d: d.execute_script(f"return {CHART}.width", "growth-chart") == 680,
                   "the chart at print size")
    assert not any(b.is_displayed() for b in clinician.css("nav.tabs, .no-print"))
    clinician.screenshot("growth-print", width=800)
    clinician.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def test_immunization_card_lists_the_forecast(clinician: Browser, web_server: WebServer):
    clinician.go("#/patient/ravi/immunizations")
    forecast = web_server.get("Patient/ravi/$immds-forecast", "Practitioner/meera-rao").json()
    recommendation = next(p["resource"] for p in forecast["parameter"]
                          if p["name"] == "recommendation")
    rows = clinician.css("#immunization-card tbody tr")
    assert len(rows) == len(recommendation["recommendation"])
    statuses = [r.get_attribute("data-status") for r in rows]
    assert "overdue" in statuses and statuses == sorted(statuses, key=[
        "overdue", "due", "upcoming", "conditional", "complete", "agedOut",
        "notRecommended"].index)
    assert len(clinician.css("ul.given li")) == 4
    clinician.screenshot("immunizations")
    clinician.go("#/patients")
    _search(clinician, "name", "Kumar")
    clinician.screenshot("patient-search")
    assert clinician.foreign_requests() == []

"""A patient's pages in a real browser: her record, her consents (grant, then revoke an
organization's access, and the practitioner's view follows), who looked (the
practitioner's read, the break-glass access highlighted), and taking her record away.

The server runs opt-in Consents: without Amina's grant nobody else sees her record.
"""

from __future__ import annotations

import json

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from .conftest import BREAK_GLASS_REASON, Browser, wait_for_file

pytestmark = pytest.mark.slow


def _find_patient(browser: Browser, name: str) -> list[str]:
    """The practitioner's patient search: the names found."""
    if browser.driver.find_element(By.ID, "main").get_attribute("data-ready") != "#/patients":
        browser.go("#/patients")
    field = browser.driver.find_element(By.ID, "name")
    field.clear()
    field.send_keys(name)
    browser.driver.execute_script(
        "document.getElementById('patient-results').dataset.ready = ''")
    browser.driver.find_element(By.CSS_SELECTOR, "#patient-search button[type=submit]").click()
    browser.wait(lambda d: d.find_element(By.ID, "patient-results").get_attribute("data-ready"),
                 "search results")
    return [a.text for a in browser.css("#patient-results a.patient-link")]


def test_a_patient_grants_and_revokes_and_sees_who_looked(browser: Browser, web_server):
    # before any grant the practitioner finds nobody of that name
    browser.driver.get(web_server.app)
    browser.ready("welcome")
    browser.screenshot("welcome")
    browser.sign_in("dr.rao", "#/patients")
    assert _find_patient(browser, "Hassan") == []
    browser.sign_out()

    # Amina signs in (with the keyboard): her record
    browser.sign_in("amina", "#/patient/amina/record", keyboard=True)
    titles = [li.text for li in browser.css("#timeline li")]
    assert any("Iron and folic acid" in t for t in titles), titles
    assert any("12.1" in t for t in titles), titles
    browser.screenshot("record")
    browser.css("#timeline a")[0].click()
    browser.wait(lambda d: d.find_elements(By.ID, "item-title"), "an opened item")
    browser.screenshot("record-item")

    # she allows Anand Clinic to see her details and results for treatment
    browser.go("#/patient/amina/consents")
    assert "Only you" in browser.driver.find_element(By.ID, "consent-default").text
    assert browser.unlabelled_fields() == []
    Select(browser.driver.find_element(By.ID, "actor-type")).select_by_value("Organization")
    browser.driver.find_element(By.ID, "actor-name").send_keys("Anand")
    browser.driver.find_element(By.ID, "actor-find").click()
    browser.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "input[name=actor]"),
                 "organizations found")
    for kind in ("details", "results"):
        browser.driver.find_element(By.CSS_SELECTOR, f"input[name=kind][value={kind}]").click()
    browser.driver.find_element(By.ID, "grant-submit").click()
    browser.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "li.consent.allow"), "the grant")
    grant = browser.css("li.consent.allow")[0]
    assert "Anand Clinic" in grant.text and "treatment" in grant.text
    browser.screenshot("consents")
    stored = web_server.get(f"Consent/{grant.get_attribute('data-id')}",
                            "Patient/amina").json()
    assert stored["status"] == "active"
    assert stored["provision"]["actor"][0]["reference"]["reference"] == \
        "Organization/anand-clinic"
    assert {c["code"] for c in stored["provision"]["class"]} == {
        "Patient", "Observation", "DiagnosticReport"}
    # signing out revokes the app's tokens at the server
    token = browser.driver.execute_script(
        "return JSON.parse(sessionStorage.getItem('mch-web-app.session')).accessToken")
    assert httpx.get(f"{web_server.live.base}/Patient/amina", timeout=30,
                     headers={"Authorization": f"Bearer {token}"}).status_code == 200
    browser.sign_out()
    assert httpx.get(f"{web_server.live.base}/Patient/amina", timeout=30,
                     headers={"Authorization": f"Bearer {token}"}).status_code == 401

    # the practitioner of Anand Clinic now finds her and reads her results
    browser.sign_in("dr.rao", "#/patients")
    assert _find_patient(browser, "Hassan") == ["Amina Hassan"]
    browser.css("#patient-results a.patient-link")[0].click()
    browser.ready("#/patient/amina/record")
    shown = [li.text for li in browser.css("#timeline li")]
    assert any("12.1" in t for t in shown), shown            # an Observation: granted
    assert not any("Iron" in t for t in shown), shown        # a MedicationRequest: not
    browser.sign_out()

    # Amina revokes; the grant is a Consent no longer active
    browser.sign_in("amina", "#/patient/amina/record")
    browser.go("#/patient/amina/consents")
    consent_id = browser.css("li.consent.allow")[0].get_attribute("data-id")
    browser.css("li.consent.allow button.revoke")[0].click()
    browser.wait(lambda d: not d.find_elements(By.CSS_SELECTOR, "li.consent.allow"),
                 "the grant revoked")
    assert web_server.get(f"Consent/{consent_id}", "Patient/amina").json()["status"] == "inactive"
    browser.sign_out()

    # the practitioner finds nobody again, and her record is unknown to him
    browser.sign_in("dr.rao", "#/patients")
    assert _find_patient(browser, "Hassan") == []
    browser.go("#/patient/amina/record")
    assert "not known" in browser.driver.find_element(By.ID, "main").text
    browser.sign_out()

    # who looked: Dr Rao's read while allowed, and the break-glass access highlighted
    browser.sign_in("amina", "#/patient/amina/record")
    browser.go("#/patient/amina/access")
    rows = browser.css("#access-log tbody tr")
    readers = [r.find_element(By.CSS_SELECTOR, "td.who").text for r in rows]
    assert "Dr Meera Rao" in " ".join(readers), readers
    assert "You" not in readers
    emergency = browser.css("#access-log tr.break-glass")
    assert emergency and BREAK_GLASS_REASON in emergency[0].text
    assert "Imran Khan" in emergency[0].text
    browser.screenshot("access-log")

    # take my record: the IPS document and the full export
    browser.go("#/patient/amina/take")
    browser.driver.find_element(By.ID, "download-summary").click()
    summary = json.loads(wait_for_file(browser.downloads, "patient-summary-*.json").read_text())
    assert summary["resourceType"] == "Bundle" and summary["type"] == "document"
    browser.driver.find_element(By.ID, "start-export").click()
    browser.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#export-files button"),
                 "the export's files")
    files = [b.text for b in browser.css("#export-files button")]
    assert any(f.startswith("Observation") for f in files), files
    browser.css("#export-files button")[0].click()
    wait_for_file(browser.downloads, "*.ndjson")
    browser.screenshot("take-my-record")

    # phone layout and Hindi
    browser.go("#/patient/amina/consents")
    browser.driver.execute_script("document.getElementById('main').dataset.ready = ''")
    Select(browser.driver.find_element(By.ID, "language")).select_by_value("hi")
    browser.wait(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "hi",
                 "Hindi")
    browser.ready("#/patient/amina/consents")
    assert "मेरी सहमतियाँ" in browser.driver.find_element(By.TAG_NAME, "h1").text
    browser.screenshot("consents-hindi-phone", width=390)
    Select(browser.driver.find_element(By.ID, "language")).select_by_value("en")
    browser.wait(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en",
                 "English")

    assert browser.foreign_requests() == []

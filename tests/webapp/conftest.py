"""The web app end to end: a real ``fhir-server serve --auth smart`` (opt-in Consents, as
a health exchange runs), seeded through the FHIR API, and headless Chromium driven by
Selenium signing in through the server's own authorization pages.

One server for the package, one browser per module. The browser tests need Debian's
``chromium`` and ``chromium-driver`` (``make browser``) and are skipped with a message
without them.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from click.testing import CliRunner
from selenium import webdriver
from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
)
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from fhir_server.cli import main

from ..conftest import LiveServer

CHROMIUM = Path("/usr/lib/chromium/chromium")
CHROMEDRIVER = shutil.which("chromedriver")
# Screenshots go to docs/images only when asked (``make screenshots`` sets
# WEBAPP_SCREENSHOTS); otherwise to the test's temporary folder, so a run leaves the tree clean.
SCREENSHOTS = os.environ.get("WEBAPP_SCREENSHOTS")
WAIT_SECONDS = 60
PASSWORD = "correct-horse-battery"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
CVX = "http://hl7.org/fhir/sid/cvx"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
BREAK_GLASS_REASON = "unconscious, suspected eclampsia"


@dataclass
class Seed:
    """What the server holds before the browser starts, with the dates it was made for."""

    today: date
    pregnancy_start: date
    child_birth: date
    visits: list[date] = field(default_factory=list)
    weights: list[tuple[int, float]] = field(default_factory=list)


DISPLAYS = {"718-7": "Hemoglobin [Mass/volume] in Blood", "85354-9": "Blood pressure panel",
            "8480-6": "Systolic blood pressure", "8462-4": "Diastolic blood pressure",
            "29463-7": "Body weight", "8306-3": "Body height --lying",
            "9843-4": "Head Occipital-frontal circumference",
            "8665-2": "Last menstrual period start date"}


def _observation(rid: str, patient: str, code: str, day: date, **value: Any) -> dict:
    return {"resourceType": "Observation", "id": rid, "status": "final",
            "code": {"coding": [{"system": LOINC, "code": code, "display": DISPLAYS[code]}]},
            "subject": {"reference": f"Patient/{patient}"},
            "effectiveDateTime": day.isoformat(), **value}


def _quantity(value: float, unit: str) -> dict:
    return {"valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org",
                              "code": unit}}


def _blood_pressure(rid: str, patient: str, day: date, systolic: int, diastolic: int) -> dict:
    return _observation(rid, patient, "85354-9", day, component=[
        {"code": {"coding": [{"system": LOINC, "code": "8480-6", "display": "Systolic"}]},
         **_quantity(systolic, "mm[Hg]")},
        {"code": {"coding": [{"system": LOINC, "code": "8462-4", "display": "Diastolic"}]},
         **_quantity(diastolic, "mm[Hg]")}])


def _encounter(rid: str, patient: str, day: date, snomed: str, display: str) -> dict:
    return {"resourceType": "Encounter", "id": rid, "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                      "code": "AMB"},
            "type": [{"coding": [{"system": SNOMED, "code": snomed, "display": display}]}],
            "subject": {"reference": f"Patient/{patient}"},
            "period": {"start": day.isoformat(), "end": day.isoformat()}}


def _clinic_consent(rid: str, patient: str) -> dict:
    """The patient's standing consent for her clinic's care (opt-in deployment)."""
    return {"resourceType": "Consent", "id": rid, "status": "active",
            "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                                  "code": "patient-privacy"}]},
            "category": [{"coding": [{"system": LOINC, "code": "59284-0"}]}],
            "patient": {"reference": f"Patient/{patient}"},
            "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                                       "code": "OPTIN"}]},
            "provision": {"period": {"start": "2020-01-01", "end": "2099-12-31"},
                          "actor": [{"role": {"coding": [{
                              "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                              "code": "IRCP"}]},
                              "reference": {"reference": "Organization/anand-clinic"}}],
                          "purpose": [{"system": ACT_REASON, "code": "TREAT"}]}}


def _immunization(rid: str, patient: str, cvx: str, display: str, day: date) -> dict:
    return {"resourceType": "Immunization", "id": rid, "status": "completed",
            "vaccineCode": {"coding": [{"system": CVX, "code": cvx, "display": display}]},
            "patient": {"reference": f"Patient/{patient}"},
            "occurrenceDateTime": day.isoformat()}


def seed_resources(seed: Seed) -> list[dict]:
    today, start, birth = seed.today, seed.pregnancy_start, seed.child_birth
    role = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/practitioner-role",
                        "code": "doctor"}]}
    resources: list[dict] = [
        {"resourceType": "Organization", "id": "anand-clinic", "name": "Anand Clinic"},
        {"resourceType": "Organization", "id": "city-hospital", "name": "City Hospital"},
        {"resourceType": "Practitioner", "id": "meera-rao",
         "name": [{"given": ["Meera"], "family": "Rao", "prefix": ["Dr"]}]},
        {"resourceType": "PractitionerRole", "id": "meera-rao-anand", "active": True,
         "practitioner": {"reference": "Practitioner/meera-rao"},
         "organization": {"reference": "Organization/anand-clinic"}, "code": [role]},
        {"resourceType": "Practitioner", "id": "imran-khan",
         "name": [{"given": ["Imran"], "family": "Khan", "prefix": ["Dr"]}]},
        {"resourceType": "PractitionerRole", "id": "imran-khan-city", "active": True,
         "practitioner": {"reference": "Practitioner/imran-khan"},
         "organization": {"reference": "Organization/city-hospital"}, "code": [role]},
        # Amina: the patient who decides who sees her record
        {"resourceType": "Patient", "id": "amina", "gender": "female", "birthDate": "1995-04-02",
         "name": [{"given": ["Amina"], "family": "Hassan"}],
         "identifier": [{"system": "urn:mch:clinic-number", "value": "MCH-0001"}]},
        _encounter("amina-visit", "amina", today - timedelta(days=30), "185349003",
                   "Encounter for check up"),
        _observation("amina-hb", "amina", "718-7", today - timedelta(days=30),
                     **_quantity(12.1, "g/dL")),
        _blood_pressure("amina-bp", "amina", today - timedelta(days=30), 112, 74),
        _immunization("amina-td", "amina", "139", "Td (adult)", today - timedelta(days=400)),
        {"resourceType": "MedicationRequest", "id": "amina-iron", "status": "active",
         "intent": "order", "subject": {"reference": "Patient/amina"},
         "authoredOn": (today - timedelta(days=30)).isoformat(),
         "medicationCodeableConcept": {"text": "Iron and folic acid tablets"}},
        # Sunita: a pregnancy of 200 days today
        {"resourceType": "Patient", "id": "sunita", "gender": "female", "birthDate": "1998-08-15",
         "name": [{"given": ["Sunita"], "family": "Devi"}],
         "identifier": [{"system": "urn:mch:clinic-number", "value": "MCH-0002"}]},
        _clinic_consent("sunita-clinic", "sunita"),
        _observation("sunita-lmp", "sunita", "8665-2", start + timedelta(days=60),
                     valueDateTime=start.isoformat()),
    ]
    for number, (day, snomed, display) in enumerate([
            (60, "424441002", "Prenatal initial visit"), (140, "424619006", "Prenatal visit")]):
        visit = start + timedelta(days=day)
        seed.visits.append(visit)
        resources.append(_encounter(f"sunita-anc-{number + 1}", "sunita", visit, snomed, display))
    for day, systolic, diastolic, haemoglobin, weight in [(60, 118, 76, 11.8, 54.0),
                                                          (140, 150, 95, 10.2, 58.5)]:
        when = start + timedelta(days=day)
        resources += [
            _blood_pressure(f"sunita-bp-{day}", "sunita", when, systolic, diastolic),
            _observation(f"sunita-hb-{day}", "sunita", "718-7", when,
                         **_quantity(haemoglobin, "g/dL")),
            _observation(f"sunita-weight-{day}", "sunita", "29463-7", when,
                         **_quantity(weight, "kg"))]
    # Ravi: a boy of 300 days with five visits to the growth clinic
    resources += [
        {"resourceType": "Patient", "id": "ravi", "gender": "male", "birthDate": birth.isoformat(),
         "name": [{"given": ["Ravi"], "family": "Kumar"}],
         "identifier": [{"system": "urn:mch:clinic-number", "value": "MCH-0003"}]},
        _clinic_consent("ravi-clinic", "ravi"),
        _immunization("ravi-bcg", "ravi", "19", "BCG", birth),
        _immunization("ravi-hepb", "ravi", "08", "Hep B, adolescent or pediatric", birth),
        _immunization("ravi-penta-1", "ravi", "198", "DTP-hepB-Hib Pentavalent Non-US",
                      birth + timedelta(days=42)),
        _immunization("ravi-penta-2", "ravi", "198", "DTP-hepB-Hib Pentavalent Non-US",
                      birth + timedelta(days=70)),
    ]
    for day, weight, length, head in [(0, 3.3, 50.0, 34.5), (42, 5.1, 56.5, 38.6),
                                      (98, 6.9, 62.5, 41.0), (182, 7.6, 67.0, 43.2),
                                      (273, 9.6, 72.5, 45.3)]:
        when = birth + timedelta(days=day)
        seed.weights.append((day, weight))
        resources += [
            _observation(f"ravi-weight-{day}", "ravi", "29463-7", when, **_quantity(weight, "kg")),
            _observation(f"ravi-length-{day}", "ravi", "8306-3", when, **_quantity(length, "cm")),
            _observation(f"ravi-head-{day}", "ravi", "9843-4", when, **_quantity(head, "cm"))]
    return resources


@dataclass
class WebServer:
    live: LiveServer
    tokens: dict[str, str]   # fhirUser -> an operator token acting as that person
    seed: Seed

    @property
    def root(self) -> str:
        return self.live.base.removesuffix("/fhir")

    @property
    def app(self) -> str:
        return f"{self.root}/app/"

    def get(self, path: str, as_user: str) -> httpx.Response:
        """GET as ``as_user`` would (a system token sees nothing under opt-in Consents)."""
        return httpx.get(f"{self.live.base}/{path}", timeout=30,
                         headers={"Authorization": f"Bearer {self.tokens[as_user]}"})


def _cli(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output.strip()


def require_chromium() -> None:
    if not CHROMIUM.exists() or CHROMEDRIVER is None:
        pytest.skip("headless Chromium is not installed; install it with 'make browser' "
                    "(apt-get install chromium chromium-driver)")


@pytest.fixture(scope="package")
def web_server(mongodb_uri: str) -> Iterator[WebServer]:
    require_chromium()
    live = LiveServer(mongodb_uri, f"webapp_{uuid.uuid4().hex[:8]}", args=["--auth", "smart"],
                      extra_env={"FHIR_CONSENT_DEFAULT": "opt-in"})
    env = {"MONGODB_URI": mongodb_uri, "FHIR_DATABASE": live.database,
           "FHIR_PORT": str(live.port)}
    try:
        _cli(env, "clients", "add", "--client-id", "ops", "--secret", "ops-secret-value",
             "--scope", "system/*.cruds user/*.cruds")
        token = _cli(env, "token", "--client-id", "ops", "--scope", "system/*.cruds",
                     "--ttl", "3600")
        today = datetime.now(UTC).date()
        seed = Seed(today, today - timedelta(days=200), today - timedelta(days=300))
        bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
            {"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
            for r in seed_resources(seed)]}
        response = httpx.post(live.base, json=bundle, timeout=120,
                              headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        for username, fhir_user in (("amina", "Patient/amina"),
                                    ("dr.rao", "Practitioner/meera-rao")):
            _cli(env, "users", "add", "--username", username, "--password", PASSWORD,
                 "--fhir-user", fhir_user)
        # an emergency access to Amina's record by a doctor of another hospital
        emergency = _cli(env, "token", "--client-id", "ops", "--scope", "user/*.cruds",
                         "--fhir-user", "Practitioner/imran-khan", "--purpose", "ETREAT")
        response = httpx.get(f"{live.base}/Observation?patient=amina", timeout=30, headers={
            "Authorization": f"Bearer {emergency}", "X-Purpose-Of-Use": "ETREAT",
            "X-Break-Glass-Reason": BREAK_GLASS_REASON})
        assert response.status_code == 200 and response.headers.get("X-Break-Glass"), \
            response.text
        tokens = {user: _cli(env, "token", "--client-id", "ops", "--scope", "user/*.cruds",
                             "--fhir-user", user, "--ttl", "3600")
                  for user in ("Patient/amina", "Practitioner/meera-rao")}
        yield WebServer(live, tokens, seed)
    finally:
        live.stop()


class Browser:
    """Headless Chromium on the app: sign in and out as a person does, wait on the page's
    own ready markers, take screenshots, and keep every URL the browser requested."""

    def __init__(self, server: WebServer, profile: Path) -> None:
        options = Options()
        options.binary_location = str(CHROMIUM)
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--window-size=1200,900", "--lang=en-GB",
                     f"--user-data-dir={profile / 'profile'}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        self.server = server
        self.downloads = profile / "downloads"
        self.downloads.mkdir()
        self.images = Path(SCREENSHOTS) if SCREENSHOTS else profile / "screenshots"
        self.driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        self.driver.execute_cdp_cmd("Browser.setDownloadBehavior", {
            "behavior": "allow", "downloadPath": str(self.downloads)})
        self.requested: list[str] = []

    def wait(self, condition, message: str = "") -> Any:
        try:
            # a page being replaced (sign-in, sign-out) leaves stale or missing elements
            return WebDriverWait(self.driver, WAIT_SECONDS, ignored_exceptions=(
                StaleElementReferenceException, NoSuchElementException)).until(condition)
        except TimeoutException:
            self.collect()
            raise AssertionError(f"timed out waiting for {message}; page: "
                                 f"{self.driver.current_url}\n"
                                 f"{self.driver.find_element(By.TAG_NAME, 'body').text[:2000]}"
                                 ) from None

    def css(self, selector: str) -> list[Any]:
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def ready(self, marker: str) -> None:
        """Wait for the app to have rendered ``marker`` (a route like ``#/patients``)."""
        self.wait(lambda d: d.find_element(By.ID, "main").get_attribute("data-ready") == marker,
                  f"the page {marker}")

    def go(self, route: str) -> None:
        self.driver.execute_script("document.getElementById('main').dataset.ready = '';"
                                   "location.hash = arguments[0];", route)
        self.ready(route)

    def sign_in(self, username: str, landing: str, *, keyboard: bool = False) -> None:
        """Sign in from the app's welcome page; ``keyboard``: reach and press the button
        with the Tab and Enter keys only."""
        driver = self.driver
        driver.get(self.server.app)
        self.ready("welcome")
        if keyboard:
            for _ in range(10):
                if driver.switch_to.active_element.get_attribute("id") == "sign-in":
                    break
                ActionChains(driver).send_keys(Keys.TAB).perform()
            ActionChains(driver).send_keys(Keys.ENTER).perform()
        else:
            driver.find_element(By.ID, "sign-in").click()
        self.wait(lambda d: d.find_elements(By.NAME, "password"), "the login page")
        assert driver.current_url.startswith(f"{self.server.root}/auth/authorize")
        driver.find_element(By.NAME, "username").send_keys(username)
        driver.find_element(By.NAME, "password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        self.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "button[value=allow]"),
                  "the consent page").pop().click()
        self.ready(landing)

    def sign_out(self) -> None:
        """The app's sign-out, then the server's login session cookie (path /auth) too,
        as a new person on another device."""
        self.driver.find_element(By.ID, "sign-out").click()
        self.ready("welcome")
        self.driver.execute_cdp_cmd("Network.clearBrowserCookies", {})

    def screenshot(self, name: str, width: int = 1200) -> Path:
        """The whole page, ``width`` pixels wide, as ``<images>/<name>.png``."""
        driver = self.driver
        driver.set_window_size(width, 900)
        driver.execute_async_script("document.fonts.ready.then(arguments[0])")
        height = driver.execute_script("return document.documentElement.scrollHeight")
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
        self.images.mkdir(parents=True, exist_ok=True)
        path = self.images / f"{name}.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        driver.set_window_size(1200, 900)
        return path

    def unlabelled_fields(self) -> list[str]:
        """Form fields on the page a screen reader could not name."""
        return self.driver.execute_script("""
            return [...document.querySelectorAll('input, select, textarea')]
              .filter(e => e.type !== 'hidden' && e.labels.length === 0
                      && !e.getAttribute('aria-label') && !e.closest('label'))
              .map(e => e.outerHTML)""")

    def collect(self) -> list[str]:
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.requestWillBeSent":
                self.requested.append(message["params"]["request"]["url"])
        return self.requested

    def foreign_requests(self) -> list[str]:
        """Requested URLs on another host than the server (``data:`` and ``blob:`` URLs are
        the page's own; ``chrome:`` ones the browser's new-tab page before the first
        navigation)."""
        server = urlsplit(self.server.root).netloc
        return [url for url in self.collect()
                if urlsplit(url).scheme not in ("data", "blob", "chrome")
                and urlsplit(url).netloc != server]

    def quit(self) -> None:
        self.driver.quit()


def wait_for_file(folder: Path, pattern: str) -> Path:
    """A completed download in ``folder`` (Chromium renames it when done)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        found = [p for p in folder.glob(pattern) if not p.name.endswith(".crdownload")]
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no download {pattern} in {folder}: {list(folder.iterdir())}")


@pytest.fixture(scope="module")
def browser(web_server: WebServer, tmp_path_factory) -> Iterator[Browser]:
    opened = Browser(web_server, tmp_path_factory.mktemp("chromium"))
    try:
        yield opened
    finally:
        opened.quit()

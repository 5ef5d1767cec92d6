"""Black box: SMART's JavaScript client (npm ``fhirclient``, vendored in tests/data/auth)
in headless Chromium, doing a standalone launch against ``fhir-server serve --auth smart``
from another origin (PKCE S256 with WebCrypto, CORS on discovery, token and FHIR API),
then reading the patient.

Needs Debian's ``chromium`` and ``chromium-driver``; skipped with a message otherwise.
"""

from __future__ import annotations

import functools
import json
import shutil
import threading
import uuid
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from fhir_server.cli import main

from ..conftest import DATA, LiveServer

pytestmark = pytest.mark.slow
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
CHROMIUM = Path("/usr/lib/chromium/chromium")
CHROMEDRIVER = shutil.which("chromedriver")
if not CHROMIUM.exists() or CHROMEDRIVER is None:
    pytest.skip("headless Chromium is not installed; install it with "
                "'apt-get update && apt-get install -y chromium chromium-driver'",
                allow_module_level=True)

LAUNCH = """<!doctype html><meta charset="utf-8"><title>launch</title>
<script src="fhir-client.pure.min.js"></script>
<script>
FHIR.oauth2.authorize({clientId: "js-app", iss: "%(base)s", redirectUri: "index.html",
                       scope: "launch/patient patient/*.rs openid fhirUser"});
</script>"""
INDEX = """<!doctype html><meta charset="utf-8"><title>app</title>
<script src="fhir-client.pure.min.js"></script>
<pre id="out"></pre>
<script>
const out = document.getElementById("out");
FHIR.oauth2.ready()
  .then(client => Promise.all([
    client.patient.read(),
    client.request("Patient/other").then(() => "visible", e => e.status || String(e)),
    Promise.resolve(client.getFhirUser()),
  ]))
  .then(([patient, other, fhirUser]) => {
    out.textContent = JSON.stringify({id: patient.id, family: patient.name[0].family,
                                      other: other, fhirUser: fhirUser});
  })
  .catch(error => { out.textContent = "ERROR " + error; });
</script>"""


class Site:
    """The app's static pages on their own origin."""

    def __init__(self, url: str, root: Path) -> None:
        self.url = url
        self.root = root


@pytest.fixture(scope="module")
def app_site(tmp_path_factory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("js-app")
    shutil.copy(DATA / "auth" / "npm-fhirclient" / "fhir-client.pure.min.js", root)
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{server.server_address[1]}", root)
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        return None


@pytest.fixture(scope="module")
def server(mongodb_uri: str, app_site: Site) -> Iterator[LiveServer]:
    live = LiveServer(mongodb_uri, f"smartjs_{uuid.uuid4().hex[:8]}", args=["--auth", "smart"])
    env = {"MONGODB_URI": mongodb_uri, "FHIR_DATABASE": live.database,
           "FHIR_PORT": str(live.port)}
    try:
        for args in (
            ["clients", "add", "--client-id", "js-app", "--public", "--redirect-uri",
             f"{app_site.url}/index.html", "--scope", "patient/*.rs"],
            ["clients", "add", "--client-id", "ops", "--secret", "ops-secret-value",
             "--scope", "system/*.cruds"],
        ):
            result = CliRunner().invoke(main, args, env=env)
            assert result.exit_code == 0, result.output
        token = CliRunner().invoke(main, ["token", "--client-id", "ops", "--scope",
                                          "system/*.cruds"], env=env).output.strip()
        for resource in ({"resourceType": "Patient", "id": "amina",
                          "name": [{"family": "Hassan"}]},
                         {"resourceType": "Patient", "id": "other"}):
            response = httpx.put(f"{live.base}/Patient/{resource['id']}", json=resource,
                                 headers={"Authorization": f"Bearer {token}"})
            assert response.status_code in (200, 201), response.text
        # after the PUTs: users add refuses a fhirUser the server has no record of
        result = CliRunner().invoke(main, ["users", "add", "--username", "amina", "--password",
                                           "amina-password", "--fhir-user", "Patient/amina"],
                                    env=env)
        assert result.exit_code == 0, result.output
        yield live
    finally:
        live.stop()


def test_js_client_standalone_launch(server: LiveServer, app_site: Site, tmp_path):
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    (app_site.root / "launch.html").write_text(LAUNCH % {"base": server.base})
    (app_site.root / "index.html").write_text(INDEX)
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--disable-gpu", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    browser = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        wait = WebDriverWait(browser, 60)
        browser.get(f"{app_site.url}/launch.html")
        wait.until(ready.presence_of_element_located((By.NAME, "password")))
        assert browser.current_url.startswith(server.base.removesuffix("/fhir") + "/auth/")
        browser.find_element(By.NAME, "username").send_keys("amina")
        browser.find_element(By.NAME, "password").send_keys("amina-password")
        browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait.until(ready.presence_of_element_located(
            (By.CSS_SELECTOR, "button[value=allow]"))).click()
        wait.until(lambda b: b.find_element(By.ID, "out").text.strip())
        text = browser.find_element(By.ID, "out").text
    finally:
        browser.quit()
    assert not text.startswith("ERROR"), text
    result = json.loads(text)
    assert result["id"] == "amina" and result["family"] == "Hassan"
    assert result["other"] == 404

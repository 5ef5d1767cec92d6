"""The web app's server side, without a browser: its page and files, the registration of
its SMART client (idempotent, several processes at once), the WHO centile curves, and the
translations."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from pymongo import AsyncMongoClient

from fhir_server.auth.registry import Client, hash_secret
from fhir_server.config import Settings
from fhir_server.mch.growth import Measurement, assess
from fhir_server.rest.app import create_app
from fhir_server.webapp.growth_curves import CENTILES, CurveRequestError, curves
from fhir_server.webapp.registration import CLIENT_ID, SCOPE, register_web_app
from fhir_server.webapp.routes import REQUESTED_SCOPE

STATIC = Path(__file__).resolve().parents[2] / "fhir_server" / "webapp" / "static"
ROOT = "http://clinic.example.org"


@pytest.fixture(scope="module")
async def smart_app(mongodb_uri: str):
    settings = Settings(database="webapp_unit", mongodb_uri=mongodb_uri,
                        base_url=f"{ROOT}/fhir", auth="smart")
    mongo = AsyncMongoClient(mongodb_uri)
    await mongo.drop_database(settings.database)
    application = create_app(settings, mongo)
    async with application.router.lifespan_context(application):
        yield application
    await mongo.drop_database(settings.database)
    await mongo.close()


@pytest.fixture(scope="module")
async def http(smart_app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=smart_app),
                                 base_url=ROOT) as client:
        yield client


async def test_the_page_carries_its_configuration_and_allows_only_this_server(http):
    assert (await http.get("/app")).headers["location"] == "app/"
    page = await http.get("/app/")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self';" in policy
    config = json.loads(re.search(r'id="config">(.*?)</script>', page.text).group(1))
    assert config == {"fhirBase": f"{ROOT}/fhir", "appUrl": f"{ROOT}/app/", "auth": "smart",
                      "clientId": CLIENT_ID, "scope": REQUESTED_SCOPE,
                      "consentDefault": "opt-out"}
    script = await http.get("/app/static/js/main.js")
    assert script.status_code == 200 and script.headers["cache-control"] == "no-cache"
    assert "default-src 'self'" in script.headers["content-security-policy"]
    assert (await http.get("/app/static/nothing-here.js")).status_code == 404


async def test_the_app_asks_for_no_more_than_its_registration(smart_app):
    assert set(REQUESTED_SCOPE.split()) <= set(SCOPE.split())
    client = await smart_app.state.auth.registry.client(CLIENT_ID)
    assert client.public and client.pkce and client.redirect_uris == [f"{ROOT}/app/"]


async def test_registration_is_idempotent_and_safe_from_several_processes(smart_app):
    """Processes starting together (two of them behind another address) leave one client
    listing each address once."""
    registry = smart_app.state.auth.registry
    issuers = [ROOT, "https://mch.example.org", ROOT, "https://mch.example.org", ROOT]
    await asyncio.gather(*(register_web_app(registry, issuer) for issuer in issuers))
    client = await registry.client(CLIENT_ID)
    assert sorted(client.redirect_uris) == [f"{ROOT}/app/", "https://mch.example.org/app/"]
    assert [c.client_id for c in await registry.list_clients()].count(CLIENT_ID) == 1


async def test_an_operators_confidential_client_of_that_id_is_left_alone(smart_app):
    registry = smart_app.state.auth.registry
    await registry.remove_client(CLIENT_ID)
    await registry.add_client(Client(CLIENT_ID, "confidential-symmetric", "user/*.rs",
                                     ["https://elsewhere.example.org/cb"],
                                     secret_hash=hash_secret("s3cret-value")))
    await register_web_app(registry, ROOT)
    client = await registry.client(CLIENT_ID)
    assert client.kind == "confidential-symmetric"
    assert client.redirect_uris == ["https://elsewhere.example.org/cb"]
    await registry.remove_client(CLIENT_ID)
    await register_web_app(registry, ROOT)
    assert (await registry.client(CLIENT_ID)).public


async def test_growth_curves_route(http):
    answer = await http.get("/app/growth-curves/hcfa", params={"sex": "female",
                                                               "range": "0-24"})
    assert answer.status_code == 200
    assert [c["centile"] for c in answer.json()["curves"]] == list(CENTILES)
    refused = await http.get("/app/growth-curves/hcfa", params={"sex": "female",
                                                                "range": "60-228"})
    assert refused.status_code == 400 and "under 5 years" in refused.json()["error"]


@pytest.mark.parametrize(("chart", "sex", "age_range", "kind", "unit"), [
    ("wfa", "male", "0-24", "weight", "kg"), ("lhfa", "female", "0-60", "height", "cm"),
    ("hcfa", "male", "0-6", "head-circumference", "cm"),
    ("bfa", "female", "60-228", "bmi", "kg/m2"), ("lhfa", "male", "60-228", "height", "cm")])
def test_each_curve_scores_back_to_its_centile(chart, sex, age_range, kind, unit):
    """A child measured exactly on a drawn curve is scored at that curve's centile by the
    growth assessment that $growth runs."""
    birth = date(2020, 1, 1)
    answer = curves(chart, sex, age_range)
    for curve in answer["curves"]:
        for months, value in curve["points"][1::17]:
            day = birth + timedelta(days=round(months * 30.4375))
            result = next(r for r in assess(sex, birth, [Measurement(kind, value, unit, day)])
                          if r.indicator == ("bfa" if kind == "bmi" else chart))
            # WHO 2006 by day: exact; WHO 2007 by month: the day nearest the month
            assert result.z_score == pytest.approx(curve["z"], abs=0.02), (months, value)


def test_curves_refuse_what_they_do_not_cover():
    for args in (("muac", "male", "0-24"), ("wfa", "other", "0-24"), ("wfa", "male", "1-2"),
                 ("hcfa", "male", "60-228"), ("wfl", "male", "60-228")):
        with pytest.raises(CurveRequestError):
            curves(*args)
    assert curves("wfl", "male", "0-24")["x"] == "cm"
    assert curves("wfl", "male", "0-60")["curves"][0]["points"][0][0] == 65.0


def _texts(language: str) -> dict[str, str]:
    return json.loads((STATIC / "i18n" / f"{language}.json").read_text(encoding="utf-8"))


def test_hindi_translates_every_text_with_the_same_placeholders():
    english, hindi = _texts("en"), _texts("hi")
    assert hindi.keys() == english.keys()
    for key, text in english.items():
        assert set(re.findall(r"\{\w+\}", hindi[key])) == set(re.findall(r"\{\w+\}", text)), key
        assert hindi[key].strip(), key


def test_every_text_the_scripts_name_is_translated():
    english = _texts("en")
    used = set()
    for script in (STATIC / "js").rglob("*.js"):
        used |= set(re.findall(r"""\bt\(["']([\w.\-]+)["']""", script.read_text()))
    assert used and used <= english.keys(), sorted(used - english.keys())

"""The decision engine without HTTP: R4 Consent semantics, and the MongoDB filter agreeing
with the single-resource decision on every resource of the record."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from consent import (
    DENY,
    MASK,
    OPT_IN,
    OPT_OUT,
    PERMIT,
    AccessRequest,
    Actor,
    ConsentPolicy,
    PathMatcher,
    consent_rule,
    decide,
    evaluate,
    mask,
    to_filter,
    visible,
)
from consent.codes import purpose_covers
from consent.dates import data_period_bounds, period_holds
from fhir_server.access.paths import r4_paths
from tests.conftest import database_of

from .data import HIV_CODES, LOINC, PSY, RECORD, ROLE, actor, consent

DATA = Path(__file__).parent.parent / "data" / "consent"
NOW = datetime(2024, 6, 1, tzinfo=UTC)
PATHS = PathMatcher("http://x/fhir", {
    "patient": {"Patient": ("link.other",), "Observation": ("subject", "performer"),
                "Condition": ("subject",), "MedicationRequest": ("subject",)},
    "code": {"Observation": ("code",), "Condition": ("code",)},
    "date": {"Observation": ("effectiveDateTime",), "Condition": ("onsetDateTime",)},
})
MIDWIFE = Actor(frozenset({"Practitioner/midwife", "PractitionerRole/pr-midwife"}),
                frozenset({"Organization/clinic-a"}), roles=frozenset({(ROLE, "nurse")}))


def example(name: str) -> dict:
    return json.loads((DATA / f"Consent-consent-example-{name}.json").read_text())


def request(actor_: Actor = MIDWIFE, purpose: str = "TREAT", at: datetime = NOW
            ) -> AccessRequest:
    return AccessRequest(actor_, at, purpose)


def outcome(consents: list[dict], resource: dict, *, policy: str = OPT_OUT,
            req: AccessRequest | None = None) -> str:
    rules = [consent_rule(c) for c in consents]
    by_patient: dict[str, list] = {}
    for rule in rules:
        assert rule is not None
        by_patient.setdefault(rule.patient, []).append(rule)
    return decide(resource, by_patient, req or request(), ConsentPolicy(default=policy),
                  PATHS, {}).outcome


OBS = {"resourceType": "Observation", "id": "o1", "subject": {"reference": "Patient/f001"},
       "code": {"coding": [{"system": LOINC, "code": "75622-1"}]},
       "effectiveDateTime": "2015-06-01"}
F001_ORG = Actor(frozenset({"Practitioner/x"}), frozenset({"Organization/f001"}))


@pytest.mark.parametrize("name, actor_, at, expected", [
    ("Out", F001_ORG, NOW, DENY),          # OPTOUT for members of Organization/f001
    ("Out", MIDWIFE, NOW, PERMIT),         # does not apply: opt-out default
    ("notOrg", F001_ORG, NOW, DENY),       # root type deny, actor f001
    ("basic", MIDWIFE, datetime(2015, 6, 1, tzinfo=UTC), PERMIT),  # OPTIN in its period
    ("smartonfhir", MIDWIFE, datetime(2016, 6, 23, 7, 10, tzinfo=UTC), PERMIT),
])
def test_r4_examples(name, actor_, at, expected):
    resource = {**OBS, "subject": {"reference": example(name)["patient"]["reference"]}}
    assert outcome([example(name)], resource, req=request(actor_, at=at)) == expected


@pytest.mark.parametrize("name, at", [
    ("basic", NOW),                                              # period over
    ("smartonfhir", datetime(2016, 6, 23, 8, 0, tzinfo=UTC)),    # 30 minutes over
])
def test_r4_examples_outside_their_period_fall_back_to_the_default(name, at):
    resource = {**OBS, "subject": {"reference": example(name)["patient"]["reference"]}}
    req = request(at=at)
    assert outcome([example(name)], resource, policy=OPT_IN, req=req) == DENY
    assert outcome([example(name)], resource, policy=OPT_OUT, req=req) == PERMIT


def test_only_active_privacy_consents_with_a_patient_are_rules():
    assert consent_rule(consent("c", status="draft")) is None
    assert consent_rule(consent("c", scope="research")) is None
    assert consent_rule({**consent("c"), "patient": {"reference": "Group/g"}}) is None
    rule = consent_rule(consent("c", {"provision": [{"type": "deny"}, {"code": HIV_CODES}]}))
    assert rule is not None and rule.root.effect == "permit"
    assert [p.effect for p in rule.root.provisions] == ["deny", None]


def test_exceptions_nest_and_siblings_deny_first():
    nested = consent("c", {"provision": [
        {"type": "deny", "code": HIV_CODES,
         "provision": [{"type": "permit", "actor": [actor("Practitioner/midwife")]}]}]},
        patient="f001")
    assert outcome([nested], OBS) == PERMIT
    assert outcome([nested], OBS, req=request(F001_ORG)) == DENY
    siblings = consent("c", {"provision": [
        {"type": "permit", "code": HIV_CODES}, {"type": "deny", "code": HIV_CODES},
        {"type": "deny", "code": HIV_CODES,
         "securityLabel": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                      "v3-ObligationPolicy", "code": "MASK"}]}]},
        patient="f001")
    assert outcome([siblings], OBS) == DENY
    masked_only = consent("c", {"provision": [
        {"type": "permit", "code": HIV_CODES},
        {"type": "deny", "code": HIV_CODES,
         "securityLabel": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                      "v3-ObligationPolicy", "code": "REDACT"}]}]},
        patient="f001")
    assert outcome([masked_only], OBS) == MASK


def test_deny_overrides_permit_across_consents():
    permit = consent("a", {"actor": [actor("Practitioner/midwife")]}, patient="f001")
    deny = consent("b", {"code": HIV_CODES}, policy="OPTOUT", patient="f001")
    assert outcome([permit], OBS, policy=OPT_IN) == PERMIT
    assert outcome([permit, deny], OBS, policy=OPT_IN) == DENY


def test_job_roles_must_be_held_but_participation_roles_only_describe():
    by_role = consent("c", {"actor": [actor("Organization/clinic-a", (ROLE, "doctor"))]},
                      patient="f001", policy="OPTOUT")
    assert outcome([by_role], OBS) == PERMIT
    nurse = consent("c", {"actor": [actor("Organization/clinic-a", (ROLE, "nurse"))]},
                    patient="f001", policy="OPTOUT")
    assert outcome([nurse], OBS) == DENY


def test_purpose_of_use_hierarchy():
    assert purpose_covers("TREAT", "ETREAT") and purpose_covers("TREAT", "BTG")
    assert purpose_covers("HRESCH", "DSRCH") and purpose_covers("HOPERAT", "CAREMGT")
    assert not purpose_covers("ETREAT", "TREAT") and not purpose_covers("TREAT", "HPAYMT")


def test_periods_and_data_periods():
    assert period_holds({"start": "2024-06", "end": "2024-06"}, NOW)
    assert period_holds({"end": "2024-06-01"}, NOW.replace(hour=23))
    assert not period_holds({"end": "2024-05-31T23:59:59+00:00"}, NOW)
    assert not period_holds({"start": "2024-06-01T02:00:00+01:00"}, NOW)
    assert not period_holds({"start": "not a date"}, NOW)
    assert data_period_bounds({"start": "2023", "end": "2023-02"}) == ("2023-01-01",
                                                                       "2023-03-01")
    assert data_period_bounds({"end": "2023-12-31T10:00:00Z"}) == (None, "2024-01-01")


def test_masked_resources_stay_valid(consent_app):
    validator = consent_app.state.services.validator
    for resource in RECORD:
        masked = mask(resource)
        assert masked["meta"]["security"][-1]["code"] == "MASKED"
        errors = [i for i in validator.validate(masked) if i.severity in ("error", "fatal")]
        assert not errors, (resource["id"], errors)
    hidden = mask(next(r for r in RECORD if r["id"] == "obs-hiv"))
    assert "coding" not in hidden["code"] and "effectiveDateTime" not in hidden
    assert hidden["subject"] == {"reference": "Patient/mum"} and hidden["status"] == "final"


CONFIGURATIONS = [
    ([consent("c1", {"provision": [{"type": "deny", "code": HIV_CODES}]})], OPT_OUT, MIDWIFE),
    ([consent("c1", {"provision": [{"type": "deny", "securityLabel": [PSY]}]})], OPT_IN,
     MIDWIFE),
    ([consent("c1", policy="OPTOUT", provision={"provision": [
        {"type": "permit", "dataPeriod": {"start": "2023-02-01", "end": "2023-03-31"}}]})],
     OPT_OUT, MIDWIFE),
    ([consent("c1", {"provision": [{"type": "deny", "dataPeriod": {"end": "2023-02-01"}}]})],
     OPT_OUT, MIDWIFE),
    ([consent("c1", {"actor": [actor("Organization/clinic-a")]}),
      consent("c2", policy="OPTOUT", patient="kid")], OPT_IN, MIDWIFE),
    ([consent("c1", {"provision": [{"type": "deny", "data": [
        {"meaning": "dependents", "reference": {"reference": "Encounter/enc-1"}},
        {"meaning": "authoredby", "reference": {"reference": "Practitioner/doctor"}}]}]})],
     OPT_OUT, MIDWIFE),
    ([consent("c1", {"provision": [{"type": "deny", "class": [
        {"system": "http://hl7.org/fhir/resource-types", "code": "Condition"}]}]})],
     OPT_IN, Actor(frozenset({"Practitioner/outsider"}))),
]


@pytest.mark.parametrize("consents, policy, who", CONFIGURATIONS)
@pytest.mark.parametrize("store", ["search index", "resource elements"])
async def test_query_filter_agrees_with_single_decisions(consent_app, consents, policy, who,
                                                         store):
    paths = (consent_app.state.services.access.matcher if store == "search index"
             else r4_paths(consent_app.state.services.base))
    rules: dict[str, list] = {}
    for resource in consents:
        rule = consent_rule(resource)
        assert rule is not None
        rules.setdefault(rule.patient, []).append(rule)
    req, settings = request(who), ConsentPolicy(default=policy)
    expression = visible(rules, req, settings, {})
    db = database_of(consent_app)
    found = set()
    for resource_type in sorted({r["resourceType"] for r in RECORD}):
        async for doc in db[resource_type].find(to_filter(expression, paths), {"_id": 1}):
            found.add(f"{resource_type}/{doc['_id']}")
    expected = {f"{r['resourceType']}/{r['id']}" for r in RECORD
                if decide(r, rules, req, settings, paths, {}).outcome != DENY}
    assert found == expected
    assert {f"{r['resourceType']}/{r['id']}" for r in RECORD
            if evaluate(expression, r, paths)} == expected
    assert expected != {f"{r['resourceType']}/{r['id']}" for r in RECORD}

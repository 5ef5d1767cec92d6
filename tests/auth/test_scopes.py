"""SMART App Launch 2.x "Scopes and Launch Context": v1 and v2 syntax, query restrictions,
narrowing of requested scopes to what a client is registered for."""

from __future__ import annotations

import pytest

from fhir_server.access.scopes import ResourceScope, grant, parse_scope, parse_scopes


@pytest.mark.parametrize("text, context, resource_type, permissions, query", [
    ("patient/Observation.read", "patient", "Observation", "rs", ()),
    ("user/*.write", "user", "*", "cud", ()),
    ("system/*.*", "system", "*", "cruds", ()),
    ("patient/Observation.rs", "patient", "Observation", "rs", ()),
    ("system/*.cruds", "system", "*", "cruds", ()),
    ("user/Encounter.cu", "user", "Encounter", "cu", ()),
    ("patient/Observation.rs?category=laboratory", "patient", "Observation", "rs",
     (("category", "laboratory"),)),
    ("patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/"
     "observation-category|vital-signs&status=final", "patient", "Observation", "rs",
     (("category", "http://terminology.hl7.org/CodeSystem/observation-category|vital-signs"),
      ("status", "final"))),
])
def test_resource_scopes_parse(text, context, resource_type, permissions, query):
    scope = parse_scope(text)
    assert scope is not None
    assert (scope.context, scope.resource_type, scope.permissions, scope.query) == (
        context, resource_type, permissions, query)


@pytest.mark.parametrize("text", [
    "openid", "fhirUser", "launch/patient", "offline_access",
    "patient/Observation.sr",  # v2 permissions must keep the cruds order
    "patient/Observation.x", "patient/observation.rs", "admin/*.rs", "patient/*.",
    "patient/Observation.rs?", "patient/Obs$ervation.rs",
])
def test_other_tokens_are_not_resource_scopes(text):
    assert parse_scope(text) is None


def test_v1_scopes_print_as_v1_and_v2_as_v2():
    scopes = parse_scopes("patient/Observation.read user/*.rs openid")
    assert str(scopes) == "patient/Observation.read user/*.rs openid"


def test_grant_narrows_to_registration():
    allowed = parse_scopes("patient/*.rs user/Observation.cruds openid")
    requested = parse_scopes(
        "patient/*.cruds patient/Observation.read user/*.write system/*.rs openid "
        "offline_access")
    granted = grant(requested, allowed, {"patient", "user"})
    assert [str(s) for s in granted.resources] == [
        "patient/*.rs", "patient/Observation.read", "user/Observation.write"]
    assert granted.others == ("openid",)


def test_grant_keeps_and_adds_query_restrictions():
    allowed = parse_scopes("patient/Observation.rs?category=laboratory patient/Condition.rs")
    granted = grant(parse_scopes("patient/*.rs"), allowed, {"patient"})
    assert [str(s) for s in granted.resources] == [
        "patient/Observation.rs?category=laboratory", "patient/Condition.rs"]
    narrower = grant(parse_scopes("patient/Condition.rs?clinical-status=active"), allowed,
                     {"patient"})
    assert str(narrower) == "patient/Condition.rs?clinical-status=active"


def test_grant_respects_contexts():
    allowed = parse_scopes("system/*.rs patient/*.rs")
    assert str(grant(parse_scopes("system/Patient.rs patient/Patient.rs"), allowed,
                     {"system"})) == "system/Patient.rs"


def test_permission_lookup():
    scopes = parse_scopes("patient/Observation.rs user/*.c")
    assert [str(s) for s in scopes.granting("s", "Observation")] == ["patient/Observation.rs"]
    assert scopes.granting("s", "Condition") == []
    assert scopes.granting("c", "Condition") == [ResourceScope("user", "*", "c")]

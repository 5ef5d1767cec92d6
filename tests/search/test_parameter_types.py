"""Search results for every parameter type and modifier, against an oracle over the raw
Synthea JSON (https://hl7.org/fhir/R4/search.html, sections "string" ... "composite").

Each case names a query and a predicate over the loaded resources; the test runs the
query (following ``next`` links) and compares the ids with those the predicate selects.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from .conftest import Loaded, search_ids
from .oracle import (
    codings,
    concept_has,
    day_range,
    fold,
    instant_range,
    name_parts,
    quantity,
    reference_is,
    starts,
)

Resource = dict[str, Any]
Case = Callable[[Loaded], tuple[str, dict[str, str], Callable[[Resource], bool]]]
CASES: dict[str, Case] = {}


def case(function: Case) -> Case:
    CASES[function.__name__] = function
    return function


def _patient(data: Loaded, given: str) -> Resource:
    return next(p for p in data.of("Patient") if p["name"][0]["given"][0] == given)


def _ref(resource: Resource) -> str:
    return f"{resource['resourceType']}/{resource['id']}"


# -- string -------------------------------------------------------------------------------
@case
def string_prefix_any_name_part(data):
    return "Patient", {"name": "schae"}, lambda r: starts(name_parts(r["name"]), "schae")


@case
def string_case_insensitive_family_other_name(data):
    return "Patient", {"family": "KLING"}, lambda r: starts(
        [n.get("family", "") for n in r["name"]], "kling")


@case
def string_exact_is_case_sensitive(data):
    return "Patient", {"name:exact": "brekke"}, lambda r: "brekke" in name_parts(r["name"])


@case
def string_exact(data):
    return "Patient", {"name:exact": "Brekke"}, lambda r: "Brekke" in name_parts(r["name"])


@case
def string_contains(data):
    return "Patient", {"name:contains": "SSETT"}, lambda r: any(
        "ssett" in fold(p) for p in name_parts(r["name"]))


@case
def string_or_values(data):
    return "Patient", {"given": "jo,lu"}, lambda r: starts(
        [g for n in r["name"] for g in n.get("given", [])], "jo") or starts(
        [g for n in r["name"] for g in n.get("given", [])], "lu")


@case
def string_and_repeated(data):
    return "Patient", {"name": ["joie", "kling"]}, lambda r: starts(
        name_parts(r["name"]), "joie") and starts(name_parts(r["name"]), "kling")


@case
def string_address_city(data):
    city = data.of("Patient")[0]["address"][0]["city"]
    return "Patient", {"address-city": city[:3].lower()}, lambda r: starts(
        [a.get("city", "") for a in r.get("address", [])], city[:3])


@case
def string_address_any_part(data):
    return "Patient", {"address": "massach"}, lambda r: starts(
        [p for a in r.get("address", []) for p in [*a.get("line", []), a.get("city", ""),
                                                   a.get("state", ""), a.get("country", ""),
                                                   a.get("postalCode", "")]], "massach")


@case
def string_on_organization(data):
    prefix = data.of("Organization")[0]["name"][:4].lower()
    return "Organization", {"name": prefix}, lambda r: starts([r.get("name", "")], prefix)


# -- token --------------------------------------------------------------------------------
@case
def token_code(data):
    return "Observation", {"code": "8302-2"}, lambda r: concept_has(r["code"], "8302-2")


@case
def token_system_and_code_or(data):
    return "Observation", {"code": "http://loinc.org|8302-2,http://loinc.org|29463-7"}, \
        lambda r: concept_has(r["code"], "8302-2", "http://loinc.org") or concept_has(
            r["code"], "29463-7", "http://loinc.org")


@case
def token_wrong_system(data):
    return "Observation", {"code": "http://snomed.info/sct|8302-2"}, lambda r: concept_has(
        r["code"], "8302-2", "http://snomed.info/sct")


@case
def token_no_system(data):
    return "Observation", {"code": "|8302-2"}, lambda r: any(
        c.get("code") == "8302-2" and "system" not in c for c in codings(r["code"]))


@case
def token_system_only(data):
    return "Condition", {"code": "http://snomed.info/sct|"}, lambda r: any(
        c.get("system") == "http://snomed.info/sct" for c in codings(r["code"]))


@case
def token_category(data):
    return "Observation", {"category": "vital-signs"}, lambda r: any(
        concept_has(c, "vital-signs") for c in r.get("category", []))


@case
def token_text(data):
    def texts(r: Resource) -> list[str]:
        return [r["code"].get("text", ""), *(c.get("display", "") for c in codings(r["code"]))]

    return "Observation", {"code:text": "BODY"}, lambda r: starts(texts(r), "body")


@case
def token_not(data):
    return "Observation", {"code:not": "8302-2,29463-7"}, lambda r: not (
        concept_has(r["code"], "8302-2") or concept_has(r["code"], "29463-7"))


@case
def token_plain_code(data):
    return "Patient", {"gender": "female"}, lambda r: r.get("gender") == "female"


@case
def token_not_plain_code(data):
    return "Patient", {"gender:not": "female"}, lambda r: r.get("gender") != "female"


@case
def token_in_value_set(data):
    return "Patient", {"gender:in": "http://hl7.org/fhir/ValueSet/administrative-gender"}, \
        lambda r: r.get("gender") in ("male", "female", "other", "unknown")


@case
def token_below_subsumption(data):
    system = "http://terminology.hl7.org/CodeSystem/condition-clinical"
    below = ("active", "recurrence", "relapse")  # CodeSystem/condition-clinical hierarchy
    return "Condition", {"clinical-status:below": f"{system}|active"}, lambda r: any(
        concept_has(r.get("clinicalStatus"), code, system) for code in below)


@case
def token_identifier(data):
    value = _patient(data, "Eboni")["identifier"][2]["value"]
    return "Patient", {"identifier": f"http://hl7.org/fhir/sid/us-ssn|{value}"}, lambda r: any(
        i.get("value") == value and i.get("system") == "http://hl7.org/fhir/sid/us-ssn"
        for i in r.get("identifier", []))


@case
def token_identifier_of_type(data):
    value = _patient(data, "Enda")["identifier"][1]["value"]
    query = f"http://terminology.hl7.org/CodeSystem/v2-0203|MR|{value}"
    return "Patient", {"identifier:of-type": query}, lambda r: any(
        i.get("value") == value and concept_has(i.get("type"), "MR")
        for i in r.get("identifier", []))


@case
def token_contact_point(data):
    phone = _patient(data, "Luigi")["telecom"][0]["value"]
    return "Patient", {"telecom": phone}, lambda r: any(
        t.get("value") == phone for t in r.get("telecom", []))


@case
def token_boolean_from_fhirpath_fallback(data):
    return "Patient", {"deceased": "false"}, lambda r: not r.get("deceasedBoolean") and (
        "deceasedDateTime" not in r)


@case
def token_vaccine_code(data):
    code = data.of("Immunization")[0]["vaccineCode"]["coding"][0]["code"]
    return "Immunization", {"vaccine-code": code}, lambda r: concept_has(r["vaccineCode"], code)


# -- reference ----------------------------------------------------------------------------
@case
def reference_type_and_id(data):
    patient = _ref(_patient(data, "Eboni"))
    return "Observation", {"subject": patient}, lambda r: reference_is(r.get("subject"), patient)


@case
def reference_bare_id(data):
    patient = _patient(data, "Joie")
    return "Observation", {"subject": patient["id"]}, lambda r: reference_is(
        r.get("subject"), _ref(patient))


@case
def reference_type_modifier(data):
    patient = _patient(data, "Enda")
    return "Observation", {"subject:Patient": patient["id"]}, lambda r: reference_is(
        r.get("subject"), _ref(patient))


@case
def reference_absolute_url_of_this_server(data):
    patient = _ref(_patient(data, "Luigi"))
    return "Immunization", {"patient": f"http://testserver/fhir/{patient}"}, \
        lambda r: reference_is(r.get("patient"), patient)


@case
def reference_or(data):
    first, second = _ref(_patient(data, "Luigi")), _ref(_patient(data, "Enda"))
    return "Encounter", {"patient": f"{first},{second}"}, lambda r: reference_is(
        r.get("subject"), first) or reference_is(r.get("subject"), second)


@case
def reference_practitioner(data):
    practitioner = _ref(data.of("Practitioner")[0])
    return "Encounter", {"participant": practitioner}, lambda r: any(
        reference_is(p.get("individual"), practitioner) for p in r.get("participant", []))


@case
def reference_wrong_type(data):
    patient = _patient(data, "Luigi")
    return "Observation", {"subject:Group": patient["id"]}, lambda r: False


# -- date ---------------------------------------------------------------------------------
def _birth(r: Resource) -> tuple[datetime, datetime]:
    return instant_range(r["birthDate"])


@case
def date_year(data):
    low, high = day_range("2020")
    return "Patient", {"birthdate": "2020"}, lambda r: low <= _birth(r)[0] and (
        _birth(r)[1] <= high)


@case
def date_day(data):
    return "Patient", {"birthdate": "eq2020-04-09"}, lambda r: r["birthDate"] == "2020-04-09"


@case
def date_ge(data):
    low, _ = day_range("2020-05")
    return "Patient", {"birthdate": "ge2020-05"}, lambda r: _birth(r)[1] > low


@case
def date_gt(data):
    _, high = day_range("1995-07-10")
    return "Patient", {"birthdate": "gt1995-07-10"}, lambda r: _birth(r)[1] > high


@case
def date_le(data):
    _, high = day_range("1995-07-10")
    return "Patient", {"birthdate": "le1995-07-10"}, lambda r: _birth(r)[0] < high


@case
def date_lt(data):
    low, _ = day_range("1995-07-10")
    return "Patient", {"birthdate": "lt1995-07-10"}, lambda r: _birth(r)[0] < low


@case
def date_ne(data):
    return "Patient", {"birthdate": "ne2020"}, lambda r: not r["birthDate"].startswith("2020")


@case
def date_sa(data):
    _, high = day_range("2019")
    return "Patient", {"birthdate": "sa2019"}, lambda r: _birth(r)[0] >= high


@case
def date_datetime_range(data):
    low, _ = day_range("2018-01-01")
    high, _ = day_range("2019-06")

    def effective(r: Resource) -> tuple[datetime, datetime]:
        return instant_range(r["effectiveDateTime"])

    return "Observation", {"date": ["ge2018-01-01", "lt2019-06"]}, lambda r: (
        effective(r)[1] > low and effective(r)[0] < high)


@case
def date_period(data):
    low, _ = day_range("2015")
    _, high = day_range("2015-12")

    def period(r: Resource) -> tuple[datetime, datetime]:
        return instant_range(r["period"]["start"])[0], instant_range(r["period"]["end"])[1]

    return "Encounter", {"date": ["ge2015", "le2015-12"]}, lambda r: (
        period(r)[1] > low and period(r)[0] < high)


@case
def date_with_time_and_zone(data):
    moment = datetime(2019, 1, 1, 12, tzinfo=UTC)
    return "Observation", {"date": "lt2019-01-01T13:00:00+01:00"}, lambda r: instant_range(
        r["effectiveDateTime"])[0] < moment


# -- quantity -----------------------------------------------------------------------------
_GRAMS = {"kg": Decimal(1000), "g": Decimal(1), "mg": Decimal("0.001"),
          "pg": Decimal("1e-12")}  # the mass units of the Synthea data


def _grams(r: Resource) -> Decimal | None:
    found = quantity(r)
    if found is None or found[1] not in _GRAMS:
        return None
    return found[0] * _GRAMS[found[1]]


@case
def quantity_any_unit(data):
    return "Observation", {"value-quantity": "gt100"}, lambda r: (
        quantity(r) is not None and quantity(r)[0] > 100)  # type: ignore[index]


@case
def quantity_with_unit_compares_all_masses(data):
    return "Observation", {"value-quantity": "lt10|http://unitsofmeasure.org|kg"}, lambda r: (
        _grams(r) is not None and _grams(r) < 10000)  # type: ignore[operator]


@case
def quantity_converted_unit(data):
    return "Observation", {"value-quantity": "ge20000|http://unitsofmeasure.org|g"}, \
        lambda r: _grams(r) is not None and _grams(r) >= 20000  # type: ignore[operator]


@case
def quantity_unit_without_conversion(data):
    return "Observation", {"value-quantity": "gt5||{score}"}, lambda r: (
        quantity(r) is not None and quantity(r)[1] == "{score}"  # type: ignore[index]
        and quantity(r)[0] > 5)  # type: ignore[index]


@case
def quantity_implicit_precision(data):
    weight = next(o for o in data.of("Observation") if concept_has(o["code"], "29463-7"))
    value = Decimal(str(weight["valueQuantity"]["value"])).quantize(Decimal("0.1"))

    def near(r: Resource) -> bool:
        found = quantity(r)
        return found is not None and value - Decimal("0.05") <= found[0] < value + Decimal(
            "0.05")

    return "Observation", {"value-quantity": str(value)}, near


@case
def quantity_ne(data):
    return "Observation", {"value-quantity": "ne80"}, lambda r: quantity(r) is not None and (
        not Decimal("79.5") <= quantity(r)[0] < Decimal("80.5"))  # type: ignore[index]


# -- composite ----------------------------------------------------------------------------
@case
def composite_code_value_quantity(data):
    return "Observation", {"code-value-quantity": "http://loinc.org|8302-2$gt100"}, \
        lambda r: concept_has(r["code"], "8302-2") and quantity(r)[0] > 100  # type: ignore


@case
def composite_component_same_component(data):
    def systolic_above(r: Resource) -> bool:
        return any(concept_has(c["code"], "8480-6") and c["valueQuantity"]["value"] > 120
                   for c in r.get("component", []))

    return "Observation", {"component-code-value-quantity": "http://loinc.org|8480-6$gt120"}, \
        systolic_above


@case
def composite_combo_code(data):
    def has_code(r: Resource) -> bool:
        concepts = [r["code"], *(c["code"] for c in r.get("component", []))]
        return any(concept_has(c, "8462-4") for c in concepts)

    return "Observation", {"combo-code": "8462-4"}, has_code


# -- :missing -----------------------------------------------------------------------------
@case
def missing_true(data):
    return "Observation", {"value-quantity:missing": "true"}, lambda r: "valueQuantity" not in r


@case
def missing_false(data):
    return "Observation", {"component-code:missing": "false"}, lambda r: "component" in r


@case
def missing_reference(data):
    return "Condition", {"abatement-date:missing": "true"}, lambda r: (
        "abatementDateTime" not in r)


# -- parameters for all resources ---------------------------------------------------------
@case
def common_id(data):
    ids = [p["id"] for p in data.of("Patient")[:2]]
    return "Patient", {"_id": ",".join(ids)}, lambda r: r["id"] in ids


@case
def common_tag(data):
    return "Practitioner", {"_tag": "https://smarthealthit.org/tags|synthea-5-2019"}, \
        lambda r: any(t.get("code") == "synthea-5-2019" for t in r.get("meta", {}).get("tag", []))


@case
def common_last_updated(data):
    return "Patient", {"_lastUpdated": "gt2020-01-01"}, lambda r: True


@case
def common_last_updated_none(data):
    return "Patient", {"_lastUpdated": "lt2020-01-01"}, lambda r: False


# -- chaining and reverse chaining --------------------------------------------------------
@case
def chain_typed(data):
    eboni = _ref(_patient(data, "Eboni"))
    return "Observation", {"subject:Patient.name": "brekke"}, lambda r: reference_is(
        r["subject"], eboni)


@case
def chain_token(data):
    boys = [_ref(p) for p in data.of("Patient") if p["gender"] == "male"]
    return "Observation", {"patient.gender": "male"}, lambda r: r["subject"]["reference"] in boys


@case
def chain_two_levels(data):
    def provider_name(r: Resource) -> str:
        encounter = data.by_reference(r["encounter"]["reference"])
        organization = data.by_reference(encounter["serviceProvider"]["reference"])  # type: ignore
        return organization["name"]  # type: ignore[index]

    prefix = fold(provider_name(data.of("Observation")[0]))[:6]
    return "Observation", {"encounter.service-provider.name": prefix}, lambda r: fold(
        provider_name(r)).startswith(prefix)


@case
def has_reverse_chain(data):
    def has_cholesterol(patient: Resource) -> bool:
        return any(o["subject"]["reference"] == _ref(patient)
                   and concept_has(o["code"], "2093-3") for o in data.of("Observation"))

    return "Patient", {"_has:Observation:patient:code": "2093-3"}, has_cholesterol


@case
def has_nested(data):
    code = data.of("Condition")[0]["code"]["coding"][0]["code"]

    def diagnosed_at(encounter: Resource) -> bool:
        return any(c.get("encounter", {}).get("reference") == _ref(encounter)
                   and concept_has(c["code"], code) for c in data.of("Condition"))

    def has_diagnosing_encounter(patient: Resource) -> bool:
        return any(e["subject"]["reference"] == _ref(patient) and diagnosed_at(e)
                   for e in data.of("Encounter"))

    return "Patient", {"_has:Encounter:patient:_has:Condition:encounter:code": code}, \
        has_diagnosing_encounter


@pytest.mark.parametrize("name", sorted(CASES))
async def test_search_matches_oracle(synthea: Loaded, name: str) -> None:
    resource_type, params, predicate = CASES[name](synthea)
    expected = sorted(r["id"] for r in synthea.of(resource_type) if predicate(r))
    found = await search_ids(synthea.client, resource_type, **params)
    assert len(found) == len(set(found)), "a resource was returned twice"
    assert sorted(found) == expected


async def test_cases_are_not_trivial(synthea: Loaded) -> None:
    """Most cases select some but not all resources, so they can fail."""
    proper = 0
    for function in CASES.values():
        resource_type, _, predicate = function(synthea)
        selected = sum(1 for r in synthea.of(resource_type) if predicate(r))
        proper += 0 < selected < len(synthea.of(resource_type))
    assert proper >= len(CASES) * 0.7

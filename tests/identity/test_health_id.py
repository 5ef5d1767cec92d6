"""Health ID configuration, issue, validation and normalisation (fhir_server.identity.health_id)."""

from __future__ import annotations

import random

import pytest

from fhir_server.identity import (
    HealthIdConfig,
    HealthIdError,
    format_health_id,
    is_valid_health_id,
    issue_health_id,
    normalise_health_id,
    patient_health_ids,
    validate_health_id,
)

SYSTEM = "https://example.org/fhir/sid/health-id"
ABHA_STYLE = HealthIdConfig(system=SYSTEM, issue=True)


def test_environment_defaults_and_names() -> None:
    config = HealthIdConfig.from_environment({})
    assert (config.system, config.format, config.check, config.issue) == \
        (None, "##-####-####-####", "verhoeff", False)
    config = HealthIdConfig.from_environment({
        "FHIR_HEALTH_ID_SYSTEM": SYSTEM, "FHIR_HEALTH_ID_FORMAT": "MCH-##########",
        "FHIR_HEALTH_ID_CHECK": "Luhn", "FHIR_HEALTH_ID_ISSUE": "on"})
    assert (config.system, config.format, config.check, config.issue) == \
        (SYSTEM, "MCH-##########", "luhn", True)


@pytest.mark.parametrize("environ", [
    {"FHIR_HEALTH_ID_ISSUE": "yes"},
    {"FHIR_HEALTH_ID_ISSUE": "on"},  # no system
    {"FHIR_HEALTH_ID_CHECK": "damm"},
    {"FHIR_HEALTH_ID_FORMAT": "ABC"},
    {"FHIR_HEALTH_ID_SYSTEM": SYSTEM, "FHIR_HEALTH_ID_ISSUE": "on",
     "FHIR_HEALTH_ID_FORMAT": "####"},
])
def test_bad_configuration_is_refused(environ: dict[str, str]) -> None:
    with pytest.raises(HealthIdError):
        HealthIdConfig.from_environment(environ)


def test_issued_ids_follow_the_format_and_validate() -> None:
    rng = random.Random(7)
    issued = {issue_health_id(ABHA_STYLE, rng) for _ in range(500)}
    assert len(issued) == 500
    for value in issued:
        assert len(value) == 17 and value[2] == value[7] == value[12] == "-"
        assert value[0] != "0"
        assert validate_health_id(value, ABHA_STYLE) == value
        assert validate_health_id(normalise_health_id(value), ABHA_STYLE) == value


def test_issue_uses_the_system_random_source_by_default() -> None:
    assert issue_health_id(ABHA_STYLE) != issue_health_id(ABHA_STYLE)


def test_prefix_format_with_luhn() -> None:
    config = HealthIdConfig(system=SYSTEM, format="MCH-##########", check="luhn", issue=True)
    value = issue_health_id(config, random.Random(1))
    assert value.startswith("MCH-") and len(value) == 14
    assert validate_health_id(value.lower().replace("-", " "), config) == value
    assert not is_valid_health_id("XYZ-" + value[4:], config)


def test_a_mistyped_digit_or_swapped_pair_is_caught() -> None:
    value = issue_health_id(ABHA_STYLE, random.Random(3))
    digits = normalise_health_id(value)
    wrong = digits[:5] + str((int(digits[5]) + 1) % 10) + digits[6:]
    with pytest.raises(HealthIdError, match="check digit"):
        validate_health_id(wrong, ABHA_STYLE)
    if digits[5] != digits[6]:
        assert not is_valid_health_id(digits[:5] + digits[6] + digits[5] + digits[7:], ABHA_STYLE)


@pytest.mark.parametrize("value", ["", "12-3456", "12-3456-7890-123X", "123456789012345"])
def test_format_errors(value: str) -> None:
    with pytest.raises(HealthIdError):
        validate_health_id(value, ABHA_STYLE)


def test_no_check_digit() -> None:
    config = HealthIdConfig(system=SYSTEM, format="####-####", check="none")
    assert validate_health_id("12345678", config) == "1234-5678"
    assert format_health_id(" 1234 5678 ", config) == "1234-5678"


def test_normalise_strips_separators_and_case() -> None:
    assert normalise_health_id(" mch-12/34.56 78 ") == "MCH12345678"


def test_patient_health_ids() -> None:
    patient = {"identifier": [{"system": SYSTEM, "value": "12-3456"},
                              {"system": "other", "value": "x"}, {"value": "y"}]}
    assert patient_health_ids(patient, ABHA_STYLE) == ["12-3456"]
    assert patient_health_ids(patient, HealthIdConfig()) == []

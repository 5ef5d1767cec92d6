"""Small builders shared by the REST tests."""

from __future__ import annotations

from typing import Any

__all__ = ["patient", "FHIR_JSON", "assert_outcome"]

FHIR_JSON = {"Content-Type": "application/fhir+json"}


def patient(family: str = "Okafor", **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "name": [{"family": family, "given": ["Ada"]}],
        "gender": "female",
        "birthDate": "1990-04-12",
        **extra,
    }


def assert_outcome(response: Any, status: int, *words: str) -> dict[str, Any]:
    """The response is an OperationOutcome with ``status`` whose text mentions ``words``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"], outcome
    text = " ".join(i.get("diagnostics", "") for i in outcome["issue"]).lower()
    for word in words:
        assert word.lower() in text, (word, text)
    return outcome

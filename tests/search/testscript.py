"""A small runner for FHIR TestScript resources (https://hl7.org/fhir/R4/testscript.html).

It executes ``test.action`` operations (``capabilities``, ``read``, ``vread``, ``search``,
``history``, ``create``, ``update``, ``delete`` with their ``resource``, ``params``,
``requestHeader`` and ``method``) over HTTP, and checks ``assert`` actions on the last
response: ``responseCode``, ``contentType``, ``headerField``, ``responseBody``
(``matchesRegex``), ``resource`` and ``expression`` (FHIRPath, via fhirpathpy).
``setup``, ``teardown``, fixtures and variables are not supported: such a script raises
:class:`Unsupported` naming what it needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["run_testscript", "Unsupported", "ScriptResult"]

_GET = {"capabilities", "read", "vread", "search", "history"}
_METHODS = {"create": "POST", "update": "PUT", "delete": "DELETE", "patch": "PATCH"}


class Unsupported(Exception):
    """The script uses a TestScript feature this runner does not implement."""


@dataclass
class ScriptResult:
    script: str
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def _url(operation: dict[str, Any]) -> tuple[str, str]:
    code = operation.get("type", {}).get("code")
    if code == "capabilities":
        return "GET", "metadata"
    if "url" in operation:
        return operation.get("method", "GET").upper(), operation["url"].lstrip("/")
    resource = operation.get("resource", "")
    params = operation.get("params", "")
    if code == "history":
        params = "/_history" + params
    method = operation.get("method")
    if method is None:
        if code in _GET:
            method = "GET"
        elif code in _METHODS:
            method = _METHODS[code]
        else:
            raise Unsupported(f"operation type '{code}'")
    if operation.get("sourceId") or operation.get("targetId"):
        raise Unsupported("operations on fixtures (sourceId/targetId)")
    return method.upper(), f"{resource}{params}"


def _compare(operator: str, actual: str | None, expected: str) -> bool:
    if operator == "equals":
        return actual == expected
    if operator == "notEquals":
        return actual != expected
    if operator == "in":
        return actual in expected.split(",")
    if operator == "notIn":
        return actual not in expected.split(",")
    if operator == "contains":
        return actual is not None and expected in actual
    if operator == "notContains":
        return actual is None or expected not in actual
    if operator == "matchesRegex":
        return actual is not None and re.search(expected, actual) is not None
    if operator == "empty":
        return not actual
    if operator == "notEmpty":
        return bool(actual)
    raise Unsupported(f"assert operator '{operator}'")


def _check(assertion: dict[str, Any], response: httpx.Response) -> str | None:
    """None when the assertion holds, else what failed."""
    label = assertion.get("label") or assertion.get("description") or "assert"
    if "responseCode" in assertion:
        operator, actual = assertion.get("operator", "equals"), str(response.status_code)
        expected = assertion["responseCode"]
    elif "contentType" in assertion:
        operator, expected = assertion.get("operator", "contains"), assertion["contentType"]
        actual = response.headers.get("content-type")
    elif "headerField" in assertion:
        operator, expected = assertion.get("operator", "equals"), assertion.get("value", "")
        actual = response.headers.get(assertion["headerField"])
    elif "responseBody" in assertion:
        operator, expected = assertion.get("operator", "matchesRegex"), assertion["responseBody"]
        actual = response.text
    elif "resource" in assertion:
        operator, expected = assertion.get("operator", "equals"), assertion["resource"]
        actual = response.json().get("resourceType")
    elif "expression" in assertion:
        import fhirpathpy

        values = fhirpathpy.evaluate(response.json(), assertion["expression"])
        operator = assertion.get("operator", "equals")
        expected = assertion.get("value", "")
        actual = ",".join(str(v) for v in values) if values else None
    else:
        raise Unsupported(f"assert on {sorted(k for k in assertion if k != 'label')}")
    if _compare(operator, actual, expected):
        return None
    return f"{label}: {operator} {expected!r}, got {str(actual)[:200]!r}"


def run_testscript(script: dict[str, Any], http: httpx.Client) -> ScriptResult:
    """Run every test of a script with ``http`` (whose base URL is the FHIR base)."""
    for unsupported in ("setup", "teardown", "fixture", "variable"):
        if script.get(unsupported):
            raise Unsupported(unsupported)
    result = ScriptResult(script.get("id", "?"))
    for test in script.get("test", []):
        response: httpx.Response | None = None
        for action in test.get("action", []):
            if "operation" in action:
                operation = action["operation"]
                method, path = _url(operation)
                headers = {h["field"]: h["value"] for h in operation.get("requestHeader", [])}
                headers.setdefault("Accept", "application/fhir+json")
                response = http.request(method, path, headers=headers)
            elif "assert" in action:
                if response is None:
                    raise Unsupported("assert before any operation")
                failure = _check(action["assert"], response)
                if failure:
                    result.failures.append(f"{test.get('id', '?')}: {failure}")
    return result

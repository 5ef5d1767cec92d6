"""Reading the input of the terminology operations and answering with Parameters.

Inputs come from the query string (GET) or a Parameters body (POST); a ``coding`` or
``codeableConcept`` parameter stands for ``system`` + ``code`` + ``display``. The
CodeSystem, ValueSet or ConceptMap worked on is the instance (``[type]/[id]/$op``), the
resource given in the body, or the one named by ``url``/``system``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.responses import Response

from terminology import LocalTerminology
from terminology.errors import TerminologyError, UnknownContent

from .. import interactions
from ..errors import InvalidRequest, NotFound
from ..rest.negotiation import check_accept
from ..rest.responses import fhir_response
from . import OperationCall

__all__ = ["TerminologyInput", "parameters_response", "answering"]

_TEXT_KEYS = ("valueString", "valueCode", "valueUri", "valueCanonical", "valueUrl", "valueId")


class TerminologyInput:
    """The parameters of one terminology operation call."""

    def __init__(self, call: OperationCall) -> None:
        self.call = call
        self.terminology: LocalTerminology = call.services.validator.terminology

    def values(self, name: str) -> list[Any]:
        return [value for given, value in self.call.parameters if given == name]

    def text(self, name: str) -> str | None:
        values = self.values(name)
        if len(values) > 1:
            raise InvalidRequest(f"The parameter '{name}' may be given only once")
        if not values:
            return None
        value = values[0]
        if isinstance(value, dict):
            value = next((value[k] for k in _TEXT_KEYS if k in value), None)
        if not isinstance(value, str) or not value:
            raise InvalidRequest(f"The parameter '{name}' needs a text value")
        return value

    def integer(self, name: str) -> int | None:
        values = self.values(name)
        if not values:
            return None
        value = values[0]
        if isinstance(value, dict):
            value = value.get("valueInteger", value.get("valueString"))
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise InvalidRequest(f"The parameter '{name}' must be an integer") from None
        if number < 0:
            raise InvalidRequest(f"The parameter '{name}' must not be negative")
        return number

    def boolean(self, name: str) -> bool:
        value = self.values(name)[0] if self.values(name) else False
        if isinstance(value, dict):
            value = value.get("valueBoolean", False)
        return value is True or value == "true"

    def complex(self, name: str, key: str) -> dict[str, Any] | None:
        """A Coding/CodeableConcept/resource parameter (body only)."""
        for value in self.values(name):
            if isinstance(value, dict) and isinstance(value.get(key), dict):
                return value[key]
            raise InvalidRequest(f"The parameter '{name}' must be given as {key} in a "
                                 "Parameters body")
        return None

    def coded(self, code_name: str = "code", system_name: str = "system",
              coding_name: str = "coding") -> list[tuple[str | None, str, str | None]]:
        """``(system, code, display)`` of ``code``+``system``, ``coding`` or
        ``codeableConcept``."""
        code = self.text(code_name)
        if code is not None:
            return [(self.text(system_name), code, self.text("display"))]
        coding = self.complex(coding_name, "valueCoding")
        if coding is not None:
            return [_from_coding(coding)]
        concept = self.complex("codeableConcept", "valueCodeableConcept")
        if concept is not None:
            return [_from_coding(c) for c in concept.get("coding", []) if isinstance(c, dict)]
        return []

    async def resource(self, kind: str, body_name: str, url_name: str = "url"
                       ) -> dict[str, Any] | None:
        """The instance, the resource in the body, or the one named by ``url_name``."""
        call = self.call
        if call.id is not None:
            stored = await interactions.read(call.caller, kind, call.id)
            return stored.resource
        for value in self.values(body_name):
            if isinstance(value, dict) and isinstance(value.get("resource"), dict) and (
                    value["resource"].get("resourceType") == kind):
                return value["resource"]
            raise InvalidRequest(f"The parameter '{body_name}' must hold a {kind}")
        if call.body is not None and call.body.get("resourceType") == kind:
            return call.body
        url = self.text(url_name)
        if url is None:
            return None
        found = self.terminology.resource(kind, url)
        if found is None:
            raise NotFound(f"No {kind} with url '{url[:200]}' is known to this server")
        return found


def _from_coding(coding: dict[str, Any]) -> tuple[str | None, str, str | None]:
    code = coding.get("code")
    if not isinstance(code, str) or not code:
        raise InvalidRequest("A coding needs a code")
    return coding.get("system"), code, coding.get("display")


def parameters_response(call: OperationCall, parameters: list[dict[str, Any]]) -> Response:
    media = check_accept(call.request)
    return fhir_response({"resourceType": "Parameters", "parameter": parameters}, 200,
                         request=call.request, media_type=media)


def answering(handler: Callable[[TerminologyInput], Awaitable[Response]]
              ) -> Callable[[OperationCall], Awaitable[Response]]:
    """The operation handler: refreshes the stored content first, and turns terminology
    errors into OperationOutcomes (unknown content 404, anything else 400)."""
    async def operation(call: OperationCall) -> Response:
        store = call.services.validator.store
        if store is not None:
            await store.refresh()
        try:
            return await handler(TerminologyInput(call))
        except UnknownContent as error:
            raise NotFound(str(error)) from None
        except TerminologyError as error:
            raise InvalidRequest(str(error)) from None
    return operation

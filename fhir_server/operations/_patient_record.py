"""What the maternal and child health operations read of one patient: the Patient and
some of their compartment's resources, always through the caller's access policy (an
operation computes only from what its caller may see)."""

from __future__ import annotations

from datetime import date
from typing import Any

from .. import clock, interactions
from ..dates import parse_date_range
from ..errors import InvalidRequest
from . import OperationCall

__all__ = ["patient_of", "compartment_resources", "as_of", "parameter_text", "MAX_RESOURCES"]

MAX_RESOURCES = 5000


async def patient_of(call: OperationCall) -> dict[str, Any]:
    """The Patient the call is about (404 / 410 as for a read)."""
    stored = await interactions.read(call.caller, "Patient", call.id or "")
    assert stored.resource is not None
    return stored.resource


async def compartment_resources(call: OperationCall, resource_type: str,
                                params: list[tuple[str, str]] | None = None
                                ) -> list[dict[str, Any]]:
    """The patient's resources of a type the caller may see (``params`` narrow them)."""
    return await call.services.search.resources(
        call.policy, resource_type, [("patient", f"Patient/{call.id}"), *(params or [])],
        limit=MAX_RESOURCES)


def parameter_text(value: Any) -> str:
    """A query value, or the value of a ``Parameters.parameter`` from a POST."""
    if isinstance(value, dict):
        return next((str(v) for k, v in value.items() if k.startswith("value")), "")
    return str(value)


def as_of(call: OperationCall, name: str = "date") -> date:
    """The day an operation answers for: its ``date`` parameter, else today."""
    given = [parameter_text(v) for n, v in call.parameters if n == name]
    if not given:
        return clock.now().date()
    if len(given) > 1:
        raise InvalidRequest(f"'{name}' is given more than once")
    low, _ = parse_date_range(given[0], name)
    return low.date()

"""A server shared by the MCH operation tests that use ``mch_server``: one database for the
package, loaded once with two Synthea patients (tests add patients of their own ids)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from .operation_helpers import LAURIE, LUIGI, load, pediatric, serving, weight
from .pregnancy_data import last_menstrual_period, synthea


@pytest.fixture(scope="package")
async def mch_server(mongodb_uri, mongo_client) -> AsyncIterator[httpx.AsyncClient]:
    """Luigi Wiegand (Synthea pediatric) with an implausible and an entered-in-error
    weight added; Laurie McCullough (Synthea prenatal) with an LMP added, as
    docs/maternal-child.md shows them. The server has stored its OperationDefinitions."""
    async with serving(mongodb_uri, mongo_client, store_operation_definitions=True) as client:
        await load(client, [
            *pediatric("Luigi_Wiegand", ("Patient", "Observation", "Immunization",
                                         "Encounter", "Organization", "Practitioner")),
            weight("luigi-implausible", LUIGI, "2021-10-20", 30.0),
            weight("luigi-in-error", LUIGI, "2021-10-21", 9.0, status="entered-in-error")])
        laurie = [r for r in synthea("Laurie_McCullough") if r["resourceType"] in (
            "Patient", "Encounter", "Condition", "Procedure", "Observation",
            "Organization", "Practitioner", "Location")]
        await load(client, [*laurie, last_menstrual_period(
            "laurie-lmp", "2019-01-19", "2018-12-01", f"Patient/{LAURIE}")])
        yield client

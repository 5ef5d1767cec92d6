"""Reading one resource, every way there is: read, vread, history, ``_elements`` and
``_summary`` on a read, searches by ``_id`` (GET, POST form, system ``_type``, count),
``$validate`` of the stored resource, and GET entries of batch and transaction Bundles.

Each target is the situation's telling resource (checks.TARGETS): hidden ones must answer
exactly as absent ones, masked ones never show their content.
"""

from __future__ import annotations

import pytest

from .checks import check_cell
from .paths import Path, cells


def _bundle(kind: str, *urls: str) -> dict:
    return {"resourceType": "Bundle", "type": kind,
            "entry": [{"request": {"method": "GET", "url": url}} for url in urls]}


_READS = [
    ("read", "/fhir/{ref}"),
    ("read-elements", "/fhir/{ref}?_elements=valueString,code,name,member,lotNumber"),
    ("read-summary", "/fhir/{ref}?_summary=true"),
    ("vread", "/fhir/{ref}/_history/1"),
    ("history-instance", "/fhir/{ref}/_history"),
    ("search-id", "/fhir/{type}?_id={id}&_total=accurate"),
    ("search-id-elements", "/fhir/{type}?_id={id}&_elements=valueString,code,name"),
    ("system-search-id", "/fhir?_type={type}&_id={id}&_total=accurate"),
    ("validate-stored", "/fhir/{ref}/$validate"),
]

_ESSENTIAL = ("read", "vread", "history-instance", "search-id", "read-elements")

# A masked resource's instance history is empty (its versions are filtered like a search
# on content) while its read shows it masked: over-hiding, not a leak; not asserted.
_SHOWN = {name for name, _ in _READS} - {"validate-stored", "history-instance"}

PATHS = [Path(f"{name}:obs", "GET", url, "obs", shows_target=name in _SHOWN)
         for name, url in _READS] + [
    Path(f"{name}:{role}", "GET", url, role, shows_target=name in _SHOWN)
    for role in ("condition", "group", "consent") for name, url in _READS
    if name in _ESSENTIAL] + [
    Path("read-if-none-match:obs", "GET", "/fhir/{ref}", "obs",
         headers={"If-None-Match": 'W/"1"'}),
    Path("search-id-count:obs", "GET", "/fhir/{type}?_id={id}&_summary=count", "obs",
         count_of="/fhir/{type}?_id={id}"),
    Path("search-post-id:obs", "POST", "/fhir/{type}/_search", "obs", body="_id={id}",
         form=True),
    Path("search-post-elements:obs", "POST", "/fhir/{type}/_search", "obs",
         body="_id={id}&_elements=valueString", form=True),
    Path("batch-get:obs", "POST", "/fhir", "obs", body=_bundle(
        "batch", "{ref}", "{ref}/_history/1", "{ref}?_elements=valueString",
        "{type}?_id={id}", "{type}?_id={id}&_summary=count", "{ref}/_history")),
    Path("transaction-get:obs", "POST", "/fhir", "obs",
         body=_bundle("transaction", "{ref}", "{type}?_id={id}")),
    Path("batch-get:patient", "POST", "/fhir", "patient", body=_bundle(
        "batch", "{ref}", "Observation?patient={id}", "Observation?subject=Patient/{id}/_history/1",
        "{ref}/$everything", "Patient/{id}/Observation")),
    Path("head-read:obs", "HEAD", "/fhir/{ref}", "obs"),
    Path("read:imm", "GET", "/fhir/{ref}", "imm", shows_target=True),
    Path("read:encounter", "GET", "/fhir/{ref}", "encounter", shows_target=True),
    Path("read:patient", "GET", "/fhir/{ref}", "patient", shows_target=True),
    Path("read-elements:patient", "GET", "/fhir/{ref}?_elements=name", "patient",
         shows_target=True),
    Path("history-instance:patient", "GET", "/fhir/{ref}/_history", "patient",
         shows_target=True),
    Path("read:other-patients-obs", "GET", "/fhir/{ref}", "bea", shows_target=True),
]


CORE = {"read:obs", "read-elements:obs", "vread:obs", "search-id:obs", "batch-get:obs",
        "read:patient", "read:group"}


@pytest.mark.parametrize("actor, path, situation", cells(PATHS, core=CORE))
async def test_read(server, actor, path, situation):
    await check_cell(server, actor, path, situation)

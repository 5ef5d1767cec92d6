"""Black-box: the real server process over real HTTP (uvicorn), with a real FHIR client
(fhirpy) and raw httpx for what clients hide (HEAD, odd methods, chunked bodies)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fhirpy import AsyncFHIRClient
from fhirpy.base.exceptions import OperationOutcome, ResourceNotFound

from .helpers import patient

pytestmark = pytest.mark.slow


async def test_fhirpy_crud_round_trip(live_server):
    client = AsyncFHIRClient(live_server.base, extra_headers={"Accept": "application/fhir+json"})
    family = f"Live-{uuid.uuid4().hex[:8]}"
    mother = client.resource("Patient", **{k: v for k, v in patient(family).items()
                                           if k != "resourceType"})
    await mother.save()
    assert mother.id and mother.meta.versionId == "1"
    fetched = await client.reference("Patient", mother.id).to_resource()
    assert fetched["name"][0]["family"] == family
    fetched["gender"] = "other"
    await fetched.save()
    assert fetched.meta.versionId == "2"
    found = await client.resources("Patient").search(_id=mother.id).fetch_all()
    assert [p.id for p in found] == [mother.id]
    await fetched.delete()
    with pytest.raises((ResourceNotFound, OperationOutcome)):
        await client.reference("Patient", mother.id).to_resource()


async def test_http_details_through_uvicorn(live_server):
    async with httpx.AsyncClient(base_url=live_server.base + "/", timeout=30) as http:
        created = await http.post("Patient", json=patient())
        assert created.status_code == 201
        url = f"Patient/{created.json()['id']}"
        head = await http.head(url)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["etag"] == 'W/"1"'
        options = await http.request("OPTIONS", url)
        assert options.status_code == 405
        assert options.json()["resourceType"] == "OperationOutcome"
        weird = await http.request("TRACE", url)
        assert weird.status_code == 405 and weird.json()["resourceType"] == "OperationOutcome"

        async def chunks():
            yield b'{"resourceType":"Patient","name":[{"family":"'
            yield b"Z" * (17 << 20)
            yield b'"}]}'

        too_big = await http.post("Patient", content=chunks(),
                                  headers={"Content-Type": "application/fhir+json"})
        assert too_big.status_code == 413
        assert too_big.json()["resourceType"] == "OperationOutcome"
        outside = await http.get(live_server.base.removesuffix("/fhir") + "/admin")
        assert outside.status_code == 404
        assert outside.json()["resourceType"] == "OperationOutcome"

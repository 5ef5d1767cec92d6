"""Helpers for the bulk export tests: kick off, poll until done, download."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest

ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


@pytest.fixture
def fast_polling(app):
    """Let tests poll without waiting (the 429 test sets its own interval)."""
    app.state.export.timings.min_poll = timedelta(0)
    return app.state.export


async def kick_off(client: httpx.AsyncClient, url: str, headers: dict[str, str] | None = None,
                   **kwargs: Any) -> str:
    method = "POST" if "json" in kwargs else "GET"
    response = await client.request(method, url, headers={**ASYNC, **(headers or {})},
                                    **kwargs)
    assert response.status_code == 202, response.text
    return response.headers["content-location"]


async def wait_for(client: httpx.AsyncClient, status_url: str,
                   headers: dict[str, str] | None = None, seconds: float = 30
                   ) -> httpx.Response:
    """Poll until the job is no longer running; returns the final response."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        response = await client.get(status_url, headers=headers or {})
        if response.status_code != 202:
            return response
        assert response.headers["x-progress"]
        assert int(response.headers["retry-after"]) > 0
        assert asyncio.get_running_loop().time() < deadline, "export did not finish"
        await asyncio.sleep(0.1)


async def download(client: httpx.AsyncClient, url: str,
                   headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    response = await client.get(url, headers=headers or {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+ndjson")
    return [orjson.loads(line) for line in response.content.splitlines() if line]


async def export_all(client: httpx.AsyncClient, url: str,
                     headers: dict[str, str] | None = None, **kwargs: Any
                     ) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """Run an export to the end: (manifest, type -> resources)."""
    status = await kick_off(client, url, headers, **kwargs)
    done = await wait_for(client, status, headers)
    assert done.status_code == 200, done.text
    manifest = done.json()
    files: dict[str, list[dict[str, Any]]] = {}
    for output in manifest["output"]:
        files.setdefault(output["type"], []).extend(
            await download(client, output["url"], headers))
    return manifest, files

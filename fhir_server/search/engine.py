"""Search engine (first cut: ``_id`` and ``_count`` only)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from starlette.requests import Request

from ..config import Settings
from ..errors import InvalidRequest
from ..json_io import from_bson

__all__ = ["SearchEngine"]


class SearchEngine:
    def __init__(self, db: AsyncDatabase, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    def index(self, resource: dict[str, Any]) -> dict[str, Any]:
        return {}

    async def ensure_indexes(self) -> None:
        return None

    def capability(self, resource_type: str) -> list[dict[str, Any]]:
        return [{"name": "_id", "type": "token",
                 "definition": "http://hl7.org/fhir/SearchParameter/Resource-id"}]

    def _filter(self, params: list[tuple[str, str]]) -> tuple[dict[str, Any], int]:
        query: dict[str, Any] = {}
        count = self.settings.default_page_size
        for name, value in params:
            if name == "_id":
                query["_id"] = {"$in": [str(v) for v in value.split(",")]}
            elif name == "_count":
                count = int(value)
            elif name not in ("_format", "_pretty"):
                raise InvalidRequest(f"Unknown search parameter '{name}'")
        return query, count

    async def match_ids(
        self, resource_type: str, params: list[tuple[str, str]], limit: int
    ) -> list[str]:
        query, _ = self._filter(params)
        docs = await self.db[resource_type].find(query, {"_id": 1}).limit(limit).to_list()
        return [d["_id"] for d in docs]

    async def search(
        self,
        request: Request,
        resource_type: str | None,
        params: list[tuple[str, str]],
        *,
        compartment: tuple[str, str] | None = None,
    ) -> dict[str, Any]:
        if resource_type is None:
            raise InvalidRequest("System-level search is not supported yet")
        query, count = self._filter(params)
        docs = await self.db[resource_type].find(query).limit(count).to_list()
        base = self.settings.fhir_base
        return {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [
                {"fullUrl": f"{base}/{resource_type}/{d['_id']}",
                 "resource": from_bson(d["resource"]), "search": {"mode": "match"}}
                for d in docs
            ],
        }

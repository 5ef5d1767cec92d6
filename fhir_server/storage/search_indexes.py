"""The MongoDB indexes searches use.

One multikey index per (type, parameter, sub-field) that common clients and the benchmark
query (MongoDB allows 64 per collection; there are 1,378 parameters, so not all of them),
plus ``search._compartments`` on every Patient-compartment type seen in practice.
Equality sub-fields: ``r`` (reference), ``c``/``sc`` (token code, system|code); range
sub-fields: ``n`` (string), ``s``/``e`` (date), ``clo`` (quantity in canonical unit).

The words of ``_text`` / ``_content`` (``search._text.w``, ``search._content.w``) are
indexed lazily: the first such search on a collection starts building its index in the
background (every index costs on every write, about 7% per write on the embedded
database for narrative-rich resources: see ``docs/search.md``), so only collections that
are searched by text pay for it.
"""

from __future__ import annotations

import asyncio
import logging

from pymongo import IndexModel, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from ..search.compartments import COMPARTMENTS_FIELD
from ..search.index import SORT_FIELD
from ..search.pairs import PAIR_FIELD, PAIRS, pair_keys
from ..search.parameters.date import COARSE_FIELD
from ..search.parameters.near import GEO_FIELD

__all__ = ["ensure_search_indexes", "SEARCH_INDEXES", "start_word_index", "word_indexes_built"]

log = logging.getLogger(__name__)

_CLINICAL = {
    "patient": ["r"], "subject": ["r"], "date": ["s", "e"], "code": ["c", "sc"],
    "_lastUpdated": ["s"],
}
SEARCH_INDEXES: dict[str, dict[str, list[str]]] = {
    "Patient": {"name": ["n"], "family": ["n"], "given": ["n"], "identifier": ["c", "sc"],
                "birthdate": ["s", "e"], "_lastUpdated": ["s"], "organization": ["r"],
                "general-practitioner": ["r"], "phonetic": ["n"], "phone": ["c"]},
    "Observation": {**_CLINICAL, "category": ["sc"], "value-quantity": ["clo"],
                    "encounter": ["r"], "combo-code": ["sc"]},
    "Encounter": {**_CLINICAL, "participant": ["r"], "location": ["r"],
                  "service-provider": ["r"]},
    "Condition": {**_CLINICAL, "onset-date": ["s"], "encounter": ["r"]},
    "Immunization": {**_CLINICAL, "vaccine-code": ["sc", "c"]},
    "MedicationRequest": {**_CLINICAL, "authoredon": ["s"], "encounter": ["r"]},
    "Procedure": {**_CLINICAL, "encounter": ["r"]},
    "DiagnosticReport": {**_CLINICAL, "encounter": ["r"]},
    "AllergyIntolerance": {"patient": ["r"], "code": ["sc"], "_lastUpdated": ["s"]},
    "CarePlan": {"patient": ["r"], "subject": ["r"], "date": ["s"], "_lastUpdated": ["s"]},
    "Claim": {"patient": ["r"], "_lastUpdated": ["s"]},
    "ExplanationOfBenefit": {"patient": ["r"], "_lastUpdated": ["s"]},
    "Organization": {"name": ["n"], "identifier": ["sc"], "_lastUpdated": ["s"]},
    "Practitioner": {"name": ["n"], "identifier": ["sc"], "_lastUpdated": ["s"]},
    "Location": {"name": ["n"], "_lastUpdated": ["s"]},
    "RelatedPerson": {"patient": ["r"], "identifier": ["sc"]},
}
_GEOSPATIAL = {"Location": ["near"]}  # 2dsphere on search._geo.<code> (docs/scheduling.md)
_SORTED = {"Observation": ["date"], "Patient": ["birthdate", "family"],
           "Encounter": ["date"], "Condition": ["onset-date"]}


def _models(resource_type: str) -> list[IndexModel]:
    models = [IndexModel([(COMPARTMENTS_FIELD, 1)], name="compartments")]
    for code, fields in SEARCH_INDEXES[resource_type].items():
        models.extend(IndexModel([(f"search.{code}.{f}", 1)], name=f"{code}.{f}")
                      for f in fields)
        if "s" in fields:
            models.append(IndexModel([(f"search.{COARSE_FIELD}.{code}", 1)],
                                     name=f"{code}.months"))
    for pair in PAIRS.get(resource_type, ()):
        models.append(IndexModel([(f"search.{PAIR_FIELD}.{pair.name}", 1),
                                  (f"search.{SORT_FIELD}.{pair.sort}.d", -1), ("_id", 1)],
                                 name=f"pair.{pair.name}"))
    # the version MongoDB would default to, given: a server that stores the default
    # (SecantusDB) would otherwise refuse the same index from the next process that starts
    models.extend(IndexModel([(f"search.{GEO_FIELD}.{code}", "2dsphere")], name=f"{code}.geo",
                             **{"2dsphereIndexVersion": 3})
                  for code in _GEOSPATIAL.get(resource_type, []))
    for code in _SORTED.get(resource_type, []):
        for suffix, direction in (("a", 1), ("d", -1)):
            field = f"search.{SORT_FIELD}.{code}.{suffix}"
            models.append(IndexModel([(field, direction), ("_id", 1)],
                                     name=f"sort.{code}.{suffix}"))
    return models


async def ensure_search_indexes(db: AsyncDatabase) -> None:
    for resource_type in SEARCH_INDEXES:
        await db[resource_type].create_indexes(_models(resource_type))
    await _backfill_pair_keys(db)


_LAYOUT = "search_layout"
_PAIRS_DONE = "pair-keys-1"
_BACKFILL_BATCH = 500


async def _backfill_pair_keys(db: AsyncDatabase) -> None:
    """Pair keys (:mod:`..search.pairs`) for resources stored before the server wrote
    them, once per database (a marker in ``search_layout`` records it; the work is
    idempotent, so two processes starting together at worst both do it)."""
    layout = db[_LAYOUT]
    if await layout.find_one({"_id": _PAIRS_DONE}) is not None:
        return
    for resource_type, pairs in PAIRS.items():
        for pair in pairs:
            missing = {f"search.{pair.reference}": {"$exists": True},
                       f"search.{pair.token}": {"$exists": True},
                       f"search.{PAIR_FIELD}.{pair.name}": {"$exists": False}}
            updates: list[UpdateOne] = []
            async for doc in db[resource_type].find(missing, {"search": 1}):
                keys = pair_keys(resource_type, doc["search"]).get(pair.name)
                if keys:
                    updates.append(UpdateOne({"_id": doc["_id"]}, {
                        "$set": {f"search.{PAIR_FIELD}.{pair.name}": keys}}))
                if len(updates) >= _BACKFILL_BATCH:
                    await db[resource_type].bulk_write(updates, ordered=False)
                    updates = []
            if updates:
                await db[resource_type].bulk_write(updates, ordered=False)
    await layout.update_one({"_id": _PAIRS_DONE}, {"$set": {"done": True}}, upsert=True)


_word_indexes: dict[tuple[str, str, str], asyncio.Task[None]] = {}


async def _build_word_index(db: AsyncDatabase, resource_type: str, code: str) -> None:
    try:
        await db[resource_type].create_index([(f"search.{code}.w", 1)], name=f"{code}.w")
    except PyMongoError as error:
        log.warning("index on %s search.%s.w not built: %s", resource_type, code, error)


def start_word_index(db: AsyncDatabase, resource_type: str, code: str) -> None:
    """Build (once per process and database) the index on the words of a full-text
    parameter (``_text``, ``_content``) of a collection, in the background."""
    key = (db.name, resource_type, code)
    if key not in _word_indexes:
        _word_indexes[key] = asyncio.get_running_loop().create_task(
            _build_word_index(db, resource_type, code))


async def word_indexes_built() -> None:
    """Wait for the word indexes started so far."""
    await asyncio.gather(*_word_indexes.values())

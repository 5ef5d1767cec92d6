"""Pair keys (``fhir_server.search.pairs``): a reference and a code searched together are
answered from one compound index, with the same results the two conditions give apart
(checked against the oracle on the raw JSON), and resources stored before the server
wrote pair keys get them when it starts.
"""

from __future__ import annotations

from bench.explain import examined
from fhir_server.access import SYSTEM
from fhir_server.storage.search_indexes import ensure_search_indexes

from .conftest import Loaded, search_ids
from .oracle import concept_has, reference_is


def _newest_first(resources: list[dict]) -> list[str]:
    ordered = sorted(resources, key=lambda r: r["id"])
    ordered.sort(key=lambda r: r.get("effectiveDateTime", ""), reverse=True)
    return [r["id"] for r in ordered]


async def test_subject_and_code_match_the_oracle_in_date_order(synthea: Loaded) -> None:
    patient = synthea.of("Patient")[0]
    reference = f"Patient/{patient['id']}"
    observations = synthea.of("Observation")
    for code, system in (("8302-2", "http://loinc.org"), ("8302-2", None),
                         ("72514-3", "http://loinc.org")):
        token = f"{system}|{code}" if system else code
        expected = [r for r in observations if reference_is(r.get("subject"), reference)
                    and concept_has(r.get("code"), code, system)]
        for name, value in (("subject", reference), ("patient", patient["id"]),
                            ("subject:Patient", patient["id"])):
            found = await search_ids(synthea.client, "Observation", **{
                name: value, "code": token, "_sort": "-date"})
            assert found == _newest_first(expected), (name, token)
    both = await search_ids(synthea.client, "Observation", subject=reference,
                            code="http://loinc.org|8302-2,http://loinc.org|29463-7")
    assert sorted(both) == sorted(
        r["id"] for r in observations if reference_is(r.get("subject"), reference)
        and (concept_has(r.get("code"), "8302-2") or concept_has(r.get("code"), "29463-7")))
    other_system = await search_ids(synthea.client, "Observation", subject=reference,
                                    code="http://snomed.info/sct|8302-2")
    assert other_system == []


async def test_the_pair_query_is_one_indexed_key(synthea: Loaded, monitored) -> None:
    engine, db, listener = monitored
    patient = synthea.of("Patient")[0]
    listener.commands.clear()
    bundle = await engine.search(SYSTEM, "Observation", [
        ("subject", f"Patient/{patient['id']}"), ("code", "http://loinc.org|8302-2"),
        ("_sort", "-date"), ("_count", "5")])
    assert bundle.get("entry")
    finds = [c for _, c in listener.commands if c.get("find") == "Observation"]
    assert [list(c["filter"]) for c in finds] == [["search._pair.subject-code"]]
    plan = await examined(db.client, db.name, finds[0])
    assert plan.plan == "IXSCAN", plan


async def test_resources_stored_without_pair_keys_get_them(synthea: Loaded, monitored
                                                            ) -> None:
    engine, db, _ = monitored
    patient = synthea.of("Patient")[0]
    params = [("subject", f"Patient/{patient['id']}"), ("code", "http://loinc.org|8302-2")]
    before = await engine.search(SYSTEM, "Observation", params)
    assert before.get("entry")
    ids = [e["resource"]["id"] for e in before["entry"]]
    await db["Observation"].update_many({"_id": {"$in": ids}},
                                        {"$unset": {"search._pair": ""}})
    await db["search_layout"].delete_many({})
    assert (await engine.search(SYSTEM, "Observation", params)).get("entry") is None
    await ensure_search_indexes(db)
    after = await engine.search(SYSTEM, "Observation", params)
    assert [e["resource"]["id"] for e in after["entry"]] == ids

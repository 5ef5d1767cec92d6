"""Patient ``$match`` on the labelled pairs: precision and recall per grade.

Run: ``.venv/bin/python -m bench.matching [--rules FILE] [--misses] [--server [--every N]]``.

Scores every pair of ``tests/data/identity/pairs.json`` (built by
``tests/data/identity/make_pairs.py``) with :func:`fhir_server.identity.score_candidate` and
prints, for "graded certain", "certain or probable" and "certain, probable or possible":
how many pairs, precision (true matches among them) and recall (share of all true matches);
then the grades per kind of pair and the scoring speed. ``--misses`` lists the pairs graded
against their label. Deterministic: the same rules give the same figures.

``--server`` measures the whole operation instead: the candidate of every pair is stored
(each under its own id, so one person may be stored several times) in a fresh database
(embedded SecantusDB in a temporary data dir, or ``MONGODB_URI``), then
``POST Patient/$match`` runs, in process, for the other record of every pair (every Nth
with ``--every``); a pair's grade is the grade ``$match`` gave its stored candidate, or
``certainly-not`` when the candidate searches did not find it. Prints the same table and
the ``$match`` latency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

from fhir_server.identity import GRADES, MatchRules, default_rules, score_candidate

PAIRS = Path(__file__).parents[1] / "tests" / "data" / "identity" / "pairs.json"
LEVELS = (("certain", 1), ("certain or probable", 2), ("certain, probable or possible", 3))
SERVER_BASE = "http://bench/fhir"


def load_pairs(path: Path = PAIRS) -> list[dict]:
    return json.loads(path.read_text())["pairs"]


def evaluate(pairs: list[dict], rules: MatchRules) -> list[tuple[dict, str, float]]:
    """(pair, grade, score) for every pair."""
    graded = []
    for pair in pairs:
        result = score_candidate(pair["patient"], pair["candidate"], rules=rules)
        graded.append((pair, result.grade, result.score))
    return graded


def precision_recall(graded: list[tuple[dict, str, float]], best: int) -> tuple[int, float, float]:
    """Pairs graded among the ``best`` first GRADES: their number, precision and recall."""
    chosen = [p for p, grade, _ in graded if GRADES.index(grade) < best]
    true = sum(p["label"] == "match" for p in chosen)
    matches = sum(p["label"] == "match" for p, _, _ in graded)
    return len(chosen), (true / len(chosen) if chosen else 1.0), true / matches


def _valid(value):
    """The value without empty arrays, objects and strings (FHIR JSON has none; the pairs
    keep some for the scoring functions' sake)."""
    if isinstance(value, dict):
        kept = {k: _valid(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in ([], {}, "")}
    if isinstance(value, list):
        return [v for v in (_valid(x) for x in value) if v not in ([], {}, "")]
    return value


async def _through(app, pairs: list[dict]) -> tuple[list[tuple[dict, str, float]], list[float]]:
    import httpx

    transport = httpx.ASGITransport(app=app)
    stored = {f"c{i:04d}": _valid({**p["candidate"], "id": f"c{i:04d}"})
              for i, p in enumerate(pairs)}
    graded, latencies = [], []
    async with httpx.AsyncClient(transport=transport, base_url=SERVER_BASE + "/",
                                 timeout=600) as http:
        ids = list(stored)
        for start in range(0, len(ids), 100):
            bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
                {"resource": stored[i], "request": {"method": "PUT", "url": f"Patient/{i}"}}
                for i in ids[start:start + 100]]}
            response = await http.post("", json=bundle)
            assert response.status_code == 200, response.text[:500]
        for index, pair in enumerate(pairs):
            patient = _valid({k: v for k, v in pair["patient"].items() if k != "id"})
            body = {"resourceType": "Parameters", "parameter": [
                {"name": "resource", "resource": patient}, {"name": "count", "valueInteger": 100}]}
            started = time.perf_counter()
            response = await http.post("Patient/$match", json=body)
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text[:500]
            own = next((e for e in response.json().get("entry", [])
                        if e["resource"].get("id") == f"c{index:04d}"), None)
            grade = own["search"]["extension"][0]["valueCode"] if own else "certainly-not"
            graded.append((pair, grade, own["search"]["score"] if own else 0.0))
    return graded, latencies


def evaluate_through_server(pairs: list[dict]) -> tuple[list[tuple[dict, str, float]],
                                                         list[float]]:
    """(pair, grade $match gave the pair's stored candidate, score) and the latencies."""
    from fhir_server.config import Settings
    from fhir_server.database import connect
    from fhir_server.rest.app import create_app
    from fhir_server.server import database_for

    os.environ.setdefault("FHIR_TERMINOLOGY_SEED", "off")
    data_dir = Path(tempfile.mkdtemp(prefix="bench-matching-"))
    settings = Settings(data_dir=data_dir, mongodb_uri=os.environ.get("MONGODB_URI"),
                        database=f"bench_matching_{uuid.uuid4().hex[:8]}", base_url=SERVER_BASE)
    database = database_for(settings)

    async def run() -> tuple[list[tuple[dict, str, float]], list[float]]:
        client = connect(settings.mongodb_uri or "")
        app = create_app(settings, client)
        try:
            async with app.router.lifespan_context(app):
                return await _through(app, pairs)
        finally:
            await client.drop_database(settings.database)
            await client.close()

    try:
        return asyncio.run(run())
    finally:
        if database is not None:
            database.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def report(graded: list[tuple[dict, str, float]], misses: bool) -> None:
    print(f"{'graded':32} {'pairs':>6} {'precision':>10} {'recall':>8}")
    for name, best in LEVELS:
        count, precision, recall = precision_recall(graded, best)
        print(f"{name:32} {count:>6} {precision:>10.3f} {recall:>8.3f}")
    print("\ngrades per kind (certain / probable / possible / certainly-not):")
    kinds: dict[tuple[str, str], Counter] = {}
    for pair, grade, _ in graded:
        kinds.setdefault((pair["label"], pair["kind"]), Counter())[grade] += 1
    for (label, kind), counts in sorted(kinds.items()):
        figures = " / ".join(str(counts[g]) for g in GRADES)
        print(f"  {label:9} {kind:28} {figures}")
    if misses:
        print("\npairs graded against their label:")
        for pair, grade, score in graded:
            wrong = (pair["label"] == "match") == (grade in ("possible", "certainly-not"))
            if wrong:
                print(f"  {pair['id']:40} {pair['label']:9} {grade:13} {score:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=Path, help="match rules JSON (default: shipped)")
    parser.add_argument("--misses", action="store_true", help="list pairs graded wrongly")
    parser.add_argument("--server", action="store_true",
                        help="run POST Patient/$match in process over a stored pool")
    parser.add_argument("--every", type=int, default=1, help="with --server: every Nth pair")
    args = parser.parse_args()
    pairs = load_pairs()
    labels = Counter(p["label"] for p in pairs)
    if args.server:
        chosen = pairs[::args.every]
        started = time.perf_counter()
        graded, latencies = evaluate_through_server(chosen)
        chosen_labels = Counter(p["label"] for p in chosen)
        latencies.sort()
        print(f"{len(chosen)} pairs ({chosen_labels['match']} matches, "
              f"{chosen_labels['non-match']} non-matches) through POST Patient/$match over "
              f"{len(chosen)} stored candidates in {time.perf_counter() - started:.0f} s; "
              f"$match median {statistics.median(latencies) * 1000:.0f} ms, "
              f"p95 {latencies[int(len(latencies) * 0.95)] * 1000:.0f} ms")
        report(graded, args.misses)
        return
    rules = MatchRules.load(args.rules) if args.rules else default_rules()
    started = time.perf_counter()
    graded = evaluate(pairs, rules)
    elapsed = time.perf_counter() - started
    print(f"{len(pairs)} pairs: {labels['match']} matches, {labels['non-match']} non-matches; "
          f"scored in {elapsed * 1000:.0f} ms ({len(pairs) / elapsed:,.0f} pairs/s, one core)")
    report(graded, args.misses)


if __name__ == "__main__":
    main()

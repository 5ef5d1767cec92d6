"""Patient ``$match`` scoring on the labelled pairs: precision and recall per grade.

Run: ``.venv/bin/python -m bench.matching [--rules FILE] [--misses]``.

Scores every pair of ``tests/data/identity/pairs.json`` (built by
``tests/data/identity/make_pairs.py``) with :func:`fhir_server.identity.score_candidate` and
prints, for "graded certain", "certain or probable" and "certain, probable or possible":
how many pairs, precision (true matches among them) and recall (share of all true matches);
then the grades per kind of pair and the scoring speed. ``--misses`` lists the pairs graded
against their label. Deterministic: the same rules give the same figures.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from fhir_server.identity import GRADES, MatchRules, default_rules, score_candidate

PAIRS = Path(__file__).parents[1] / "tests" / "data" / "identity" / "pairs.json"
LEVELS = (("certain", 1), ("certain or probable", 2), ("certain, probable or possible", 3))


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=Path, help="match rules JSON (default: shipped)")
    parser.add_argument("--misses", action="store_true", help="list pairs graded wrongly")
    args = parser.parse_args()
    rules = MatchRules.load(args.rules) if args.rules else default_rules()
    pairs = load_pairs()
    started = time.perf_counter()
    graded = evaluate(pairs, rules)
    elapsed = time.perf_counter() - started
    labels = Counter(p["label"] for p in pairs)
    print(f"{len(pairs)} pairs: {labels['match']} matches, {labels['non-match']} non-matches; "
          f"scored in {elapsed * 1000:.0f} ms ({len(pairs) / elapsed:,.0f} pairs/s, one core)")
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
    if args.misses:
        print("\npairs graded against their label:")
        for pair, grade, score in graded:
            wrong = (pair["label"] == "match") == (grade in ("possible", "certainly-not"))
            if wrong:
                print(f"  {pair['id']:40} {pair['label']:9} {grade:13} {score:.4f}")


if __name__ == "__main__":
    main()

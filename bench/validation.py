"""Structural validation cost per resource over the Synthea test data.

Run: ``.venv/bin/python -m bench.validation [--rounds N]``. Validates every resource of the
13 Synthea transaction bundles one by one (as the server does on each write) and prints
microseconds per resource, as CPU time of this process (steady on a shared machine) and as
wall-clock time; the first round also pays for compiling the element trees.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter
from pathlib import Path

from fhir_server.json_io import parse_json
from profiles.validator import Validator

BUNDLES = Path(__file__).parents[1] / "tests" / "data" / "synthea" / "bundles"


def _resources() -> list[dict]:
    resources = []
    for path in sorted(BUNDLES.glob("*/*.json")):
        bundle = parse_json(path.read_bytes())
        resources += [entry["resource"] for entry in bundle["entry"]]
    return resources


def _round(validator: Validator, resources: list[dict]) -> tuple[float, float, int]:
    """CPU seconds, wall-clock seconds and issues found for one pass over ``resources``."""
    errors = 0
    cpu, wall = time.process_time(), time.perf_counter()
    for resource in resources:
        errors += len(validator.validate(resource))
    return time.process_time() - cpu, time.perf_counter() - wall, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    resources = _resources()
    started = time.perf_counter()
    validator = Validator()
    errors = _round(validator, resources)[2]
    cold = time.perf_counter() - started
    timings = [_round(validator, resources) for _ in range(rounds)]
    cpu = [t[0] / len(resources) * 1e6 for t in timings]
    wall = [t[1] / len(resources) * 1e6 for t in timings]
    kinds = Counter(r["resourceType"] for r in resources)
    print(f"resources: {len(resources)} ({', '.join(f'{k} {n}' for k, n in kinds.most_common(5))}"
          ", ...)")
    print(f"issues found: {errors}")
    print(f"first round (loading definitions, compiling trees): {cold:.2f} s")
    print(f"warm, CPU time: median {statistics.median(cpu):.0f} us/resource, "
          f"best {min(cpu):.0f} over {rounds} rounds")
    print(f"warm, wall clock: median {statistics.median(wall):.0f} us/resource, "
          f"best {min(wall):.0f} over {rounds} rounds")


if __name__ == "__main__":
    main()

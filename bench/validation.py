"""Validation cost per resource over the Synthea test data, base-only and profiled, and
``$validate-code`` throughput.

Run: ``.venv/bin/python -m bench.validation [--rounds N] [--http]``.

* base: every resource of the 13 Synthea transaction bundles validated one by one (as the
  server does on each write) against the core R4 definitions;
* profiled: the Synthea vital-sign Observations (category ``vital-signs``) claiming the
  core ``vitalsigns`` profile (slicing, patterns, bindings, FHIRPath invariants), and the
  project's maternal and child health examples claiming their profiles;
* ``$validate-code``: ValueSet membership checks per second in-process, and with
  ``--http`` through the ASGI app and an embedded database (requests per second).

Times are CPU time of this process (steady on a shared machine) and wall clock; the first
round also pays for loading definitions and compiling trees.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import os
import statistics
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from bench.embedded import temporary_database
from fhir_server.json_io import parse_json
from profiles.policy import ProfilePolicy
from profiles.validator import Validator

ROOT = Path(__file__).parents[1]
BUNDLES = ROOT / "tests" / "data" / "synthea" / "bundles"
MCH = ROOT / "tests" / "data" / "profiles" / "mch"
VITAL_SIGNS = "http://hl7.org/fhir/StructureDefinition/vitalsigns"
PREGNANCY_STATUS = "https://mch-fhir.org/fhir/ValueSet/pregnancy-status"
SNOMED = "http://snomed.info/sct"


def _resources() -> list[dict]:
    resources = []
    for path in sorted(BUNDLES.glob("*/*.json")):
        bundle = parse_json(path.read_bytes())
        resources += [entry["resource"] for entry in bundle["entry"]]
    return resources


def _profiled(resources: list[dict]) -> list[dict]:
    """Vital-sign Observations claiming the core vitalsigns profile, plus the MCH examples."""
    profiled = []
    for resource in resources:
        if resource["resourceType"] != "Observation":
            continue
        categories = [c.get("code") for cc in resource.get("category", [])
                      for c in cc.get("coding", [])]
        if "vital-signs" in categories:
            claimed = copy.deepcopy(resource)
            claimed["meta"] = {**claimed.get("meta", {}), "profile": [VITAL_SIGNS]}
            profiled.append(claimed)
    profiled += [parse_json(p.read_bytes()) for p in sorted(MCH.glob("*-valid.json"))]
    return profiled


def _round(validate: Callable[[dict], list], resources: list[dict]
           ) -> tuple[float, float, int]:
    """CPU seconds, wall-clock seconds and errors found for one pass over ``resources``."""
    errors = 0
    cpu, wall = time.process_time(), time.perf_counter()
    for resource in resources:
        errors += sum(1 for i in validate(resource) if i.severity == "error")
    return time.process_time() - cpu, time.perf_counter() - wall, errors


def _report(label: str, validate: Callable[[dict], list], resources: list[dict],
            rounds: int) -> None:
    started = time.perf_counter()
    errors = _round(validate, resources)[2]
    cold = time.perf_counter() - started
    timings = [_round(validate, resources) for _ in range(rounds)]
    cpu = [t[0] / len(resources) * 1e6 for t in timings]
    wall = [t[1] / len(resources) * 1e6 for t in timings]
    kinds = Counter(r["resourceType"] for r in resources)
    print(f"{label}: {len(resources)} resources "
          f"({', '.join(f'{k} {n}' for k, n in kinds.most_common(4))}, ...), "
          f"{errors} errors")
    print(f"  first round: {cold:.2f} s")
    print(f"  warm, CPU time: median {statistics.median(cpu):.0f} us/resource, "
          f"best {min(cpu):.0f} over {rounds} rounds")
    print(f"  warm, wall clock: median {statistics.median(wall):.0f} us/resource, "
          f"best {min(wall):.0f} over {rounds} rounds")


def _validate_code_in_process(validator: Validator, calls: int) -> None:
    from terminology.expand import validate_in_value_set

    terminology = validator.terminology
    value_set = terminology.resource("ValueSet", PREGNANCY_STATUS)
    codes = ["77386006", "60001007", "72892002", "261665006"]
    validate_in_value_set(terminology, value_set, [(SNOMED, codes[0], None)])
    cpu, wall = time.process_time(), time.perf_counter()
    for index in range(calls):
        validate_in_value_set(terminology, value_set, [(SNOMED, codes[index % 4], None)])
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"$validate-code in process: {calls / cpu:,.0f} calls/s CPU, "
          f"{calls / wall:,.0f} calls/s wall ({calls} calls)")


async def _validate_code_over_http(requests: int) -> None:
    import httpx

    from fhir_server.config import Settings
    from fhir_server.database import connect
    from fhir_server.rest.app import create_app

    os.environ["FHIR_TERMINOLOGY_SEED"] = "off"  # measure the operation, not the seeding
    with temporary_database("bench-validation-") as database:
        client = connect(database.uri)
        try:
            app = create_app(Settings(database="bench", mongodb_uri=database.uri), client)
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport,
                                             base_url="http://bench/fhir/") as http:
                    url = (f"ValueSet/$validate-code?url={PREGNANCY_STATUS}&system={SNOMED}"
                           "&code=77386006")
                    assert (await http.get(url)).status_code == 200
                    wall = time.perf_counter()
                    for _ in range(requests):
                        (await http.get(url)).raise_for_status()
                    wall = time.perf_counter() - wall
            print(f"$validate-code over HTTP (ASGI, embedded DB): "
                  f"{requests / wall:,.0f} requests/s ({requests} sequential requests)")
        finally:
            await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--http", action="store_true",
                        help="also measure $validate-code over HTTP (starts a database)")
    arguments = parser.parse_args()
    resources = _resources()
    validator = Validator(policy=ProfilePolicy())
    _report("base-only (Synthea bundles)", validator.validate, resources, arguments.rounds)
    _report("profiled (vital signs + MCH examples)", validator.validate, _profiled(resources),
            arguments.rounds)
    _validate_code_in_process(validator, 20_000)
    if arguments.http:
        asyncio.run(_validate_code_over_http(500))


if __name__ == "__main__":
    main()

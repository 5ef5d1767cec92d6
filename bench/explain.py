"""What the database examines for a query: ``explain`` in ``executionStats`` verbosity.

:class:`Recorder` records the find/aggregate/count commands a piece of code sends;
:func:`examined` explains one of them and returns the plan, the index, the keys and
documents examined and the documents returned. MongoDB reports what its plan did.
SecantusDB 0.7 explains a filter on several fields as COLLSCAN unless one compound index
covers them all, while its executor answers the first filter key that has an index and
filters the rest (``Storage._try_index_id_keys``): for such a filter the figures are
those of that first key alone, the candidates the executor fetches (see
``tests/search/explain.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pymongo import monitoring

__all__ = ["Recorder", "Examined", "examined"]

_RECORDED = ("find", "aggregate", "count")
_DROPPED = ("lsid", "$db", "$clusterTime", "$readPreference", "readConcern", "txnNumber",
            "autocommit", "startTransaction")


class Recorder(monitoring.CommandListener):
    def __init__(self) -> None:
        self.commands: list[tuple[str, dict[str, Any]]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in _RECORDED:
            command = {k: v for k, v in event.command.items() if k not in _DROPPED}
            self.commands.append((event.database_name, command))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@dataclass
class Examined:
    plan: str
    index: str
    keys: int
    docs: int
    returned: int


def _stages(plan: dict[str, Any]) -> list[dict[str, Any]]:
    found = [plan]
    for key in ("inputStage", "queryPlan"):
        if key in plan:
            found += _stages(plan[key])
    for child in plan.get("inputStages", []):
        found += _stages(child)
    return found


def _filter(command: dict[str, Any]) -> dict[str, Any]:
    if "filter" in command:
        return command["filter"]
    if "query" in command:
        return command["query"] or {}
    return command["pipeline"][0].get("$match", {})


async def examined(client: Any, database: str, command: dict[str, Any]) -> Examined:
    """What the database examines to answer ``command`` (see the module docstring)."""
    explained = await client[database].command(
        {"explain": command, "verbosity": "executionStats"})
    planner = explained.get("queryPlanner") or explained["stages"][0]["$cursor"][
        "queryPlanner"]
    stats = explained.get("executionStats") or explained["stages"][0]["$cursor"].get(
        "executionStats", {})
    stages = _stages(planner["winningPlan"])
    names = [s.get("stage", "") for s in stages]
    query = _filter(command)
    secantus = explained.get("serverInfo", {}).get("host") == "secantus"
    if secantus and "COLLSCAN" in names and len(query) > 1:
        key, condition = next(iter(query.items()))
        collection = command.get("find") or command.get("aggregate") or command["count"]
        first = await examined(client, database, {"find": collection,
                                                  "filter": {key: condition}})
        if first.plan == "IXSCAN":
            returned = int(stats.get("nReturned", 0))
            return Examined("IXSCAN", first.index + " (first key)", first.keys, first.docs,
                            returned)
    plan = "IXSCAN" if "IXSCAN" in names else ("COLLSCAN" if "COLLSCAN" in names
                                                else names[-1])
    index = next((s.get("indexName", "") for s in stages if s.get("stage") == "IXSCAN"), "")
    return Examined(plan, index, int(stats.get("totalKeysExamined", 0)),
                    int(stats.get("totalDocsExamined", 0)), int(stats.get("nReturned", 0)))

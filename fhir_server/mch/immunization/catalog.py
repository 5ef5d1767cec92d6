"""The schedules a deployment offers: the shipped ones plus its own schedule files.

Shipped: ``schedules/*.json`` in this package. A deployment adds schedule files (same
format) in the directories named by ``FHIR_IMMUNIZATION_SCHEDULES`` (separated like
``PATH``); a file whose ``id`` equals a shipped schedule's replaces it. The deployment's
default schedule is ``FHIR_IMMUNIZATION_SCHEDULE`` (default ``who-routine``); a request
may name another.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from .schedule import Schedule, ScheduleError, parse_schedule
from .vaccines import VaccineCatalog, vaccine_catalog

__all__ = ["ScheduleCatalog", "ScheduleSummary", "UnknownSchedule", "DEFAULT_SCHEDULE"]

DEFAULT_SCHEDULE = "who-routine"


class UnknownSchedule(LookupError):
    """No schedule has the requested id."""


@dataclass(frozen=True)
class ScheduleSummary:
    """What ``schedules()`` lists: id, title and where the schedule comes from."""

    id: str
    title: str
    document: str
    version: str
    url: str


class ScheduleCatalog:
    """Schedules by id, and the deployment's default."""

    def __init__(self, schedules: Iterable[Schedule], vaccines: VaccineCatalog,
                 default: str = DEFAULT_SCHEDULE) -> None:
        self.vaccines = vaccines
        self._schedules = {s.id: s for s in schedules}
        if default not in self._schedules:
            raise ScheduleError(f"The default immunization schedule '{default}' is not loaded "
                                f"(loaded: {', '.join(sorted(self._schedules))})")
        self.default = default

    @classmethod
    def load(cls, directories: Iterable[str | Path] = (),
             default: str = DEFAULT_SCHEDULE) -> ScheduleCatalog:
        """The shipped schedules, then every ``*.json`` file in ``directories``."""
        vaccines = vaccine_catalog()
        shipped = resources.files(__package__).joinpath("schedules")
        documents = [json.loads(f.read_text("utf-8")) for f in sorted(
            shipped.iterdir(), key=lambda f: f.name) if f.name.endswith(".json")]
        for directory in directories:
            for path in sorted(Path(directory).glob("*.json")):
                documents.append(_read(path))
        return cls((parse_schedule(d, vaccines) for d in documents), vaccines, default)

    @classmethod
    def from_environment(cls) -> ScheduleCatalog:
        """Shipped schedules plus ``FHIR_IMMUNIZATION_SCHEDULES``; default from
        ``FHIR_IMMUNIZATION_SCHEDULE``."""
        extra = [p for p in os.environ.get("FHIR_IMMUNIZATION_SCHEDULES", "").split(os.pathsep)
                 if p]
        return cls.load(extra, os.environ.get("FHIR_IMMUNIZATION_SCHEDULE", DEFAULT_SCHEDULE))

    def get(self, schedule_id: str | None = None) -> Schedule:
        """The schedule ``schedule_id`` (the default when ``None``)."""
        key = self.default if schedule_id is None else schedule_id
        try:
            return self._schedules[key]
        except KeyError:
            raise UnknownSchedule(
                f"Unknown immunization schedule '{key}' (known: "
                f"{', '.join(sorted(self._schedules))})") from None

    def summaries(self) -> list[ScheduleSummary]:
        return [ScheduleSummary(s.id, s.title, s.source.document, s.source.version,
                                s.source.url)
                for s in sorted(self._schedules.values(), key=lambda s: s.id)]


def _read(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as error:
        raise ScheduleError(f"Cannot read immunization schedule {path}: {error}") from error

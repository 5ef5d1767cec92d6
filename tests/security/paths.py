"""The tables' rows: a :class:`Path` is a request template; :func:`cells` makes the
(actor, path, situation) parameters of a table, known leaks (:class:`Leak`) marked
``xfail(strict=True)``; :func:`render` fills a path in for one cell.

The placeholders ``{id}``, ``{type}``, ``{ref}`` (``Type/id``), ``{patient}`` and
``{secret}`` name the cell's target, one resource of the situation's patient
(:data:`TARGETS`); the absent twin of a target has the id ``nx-absent``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from .data import SITUATIONS, secret

ABSENT = "nx-absent"

# The target of each role, per situation: the resource a cell asks about.
TARGETS: dict[str, Callable[[str], str]] = {
    # the situation's telling Observation: denied with the organization, denied by code,
    # masked by label, and an HIV result nobody's Consent covers
    "obs": lambda s: {"den": "Observation/den-vital", "hiv": "Observation/hiv-hiv",
                      "psy": "Observation/psy-psy", "free": "Observation/free-hiv"}[s],
    "patient": lambda s: f"Patient/{s}",
    "encounter": lambda s: f"Encounter/{s}-enc",
    "condition": lambda s: f"Condition/{s}-hivdx",
    "imm": lambda s: f"Immunization/{s}-imm",
    "group": lambda s: f"Group/{s}-grp",
    "binary": lambda s: f"Binary/{s}-bin",
    "consent": lambda s: f"Consent/{s}-consent",
    "bea": lambda s: "Observation/bea-hiv",
}


@dataclass(frozen=True)
class Path:
    """One way of asking. ``target``: a :data:`TARGETS` role (None: a population
    request); ``content``: the request tests what resources say, so masked ones must not
    match; ``joins``: for a match (and situation), the resources it was found through
    (chains, ``_has``),
    which the actor must be able to see too; ``count_of``: for ``_summary=count``, the same
    search listing its matches; ``exact``: compare the results with the oracle's;
    ``narrowing``: the request names patients, and the server may then leave out what is
    also in other patients' compartments (search hints: a wrong hint can only hide);
    ``absent_alike``: compare a hidden target's answer with an absent one's (not for
    writes that would create the absent one);
    ``positive``: a target the actor may see gets a successful answer (``shows_target``:
    and is in it);
    ``actors`` / ``situations``: where the cell applies (default: everywhere)."""

    name: str
    method: str
    url: str
    target: str | None = None
    body: Any = None
    form: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    content: bool = False
    joins: Callable[[str, str], list[str]] | None = None
    count_of: str | None = None
    exact: bool = True
    narrowing: bool = False
    absent_alike: bool = True
    shows_target: bool = False
    positive: bool = True
    actors: tuple[str, ...] | None = None
    situations: tuple[str, ...] | None = None

    def applies(self, actor: str, situation: str) -> bool:
        return (self.actors is None or actor in self.actors) and (
            self.situations is None or situation in self.situations)


@dataclass(frozen=True)
class Leak:
    """A known leak: the cells it fails are marked ``xfail(strict=True)`` with its
    reason, so fixing it makes them pass and fails the suite until the mark goes."""

    reason: str
    paths: tuple[str, ...]
    actors: tuple[str, ...]
    situations: tuple[str, ...] = SITUATIONS

    def covers(self, actor: str, path: str, situation: str) -> bool:
        return actor in self.actors and path in self.paths and situation in self.situations


MAIN_ACTORS = ("self", "other", "doc", "clerk", "outsider", "backend", "narrow", "doc-btg")


# Actors whose access differs from the doctor's only in break-glass (the pharmacist, who
# may not break it; the doctor breaking it): they run a table's core paths only.
CONTROL_ACTORS = ("clerk", "doc-btg")


def cells(paths: list[Path], leaks: tuple[Leak, ...] = (),
          actors: tuple[str, ...] = MAIN_ACTORS, core: set[str] | None = None) -> list[Any]:
    """The (actor, path, situation) parameters of a table, with readable ids; the
    control actors get the ``core`` paths only (every path when None)."""
    import pytest

    found = []
    for path in paths:
        for actor in actors:
            if core is not None and actor in CONTROL_ACTORS and path.name not in core:
                continue
            for situation in SITUATIONS:
                if not path.applies(actor, situation):
                    continue
                marks = [pytest.mark.xfail(strict=True, reason=f"leak: {leak.reason}")
                         for leak in leaks if leak.covers(actor, path.name, situation)]
                found.append(pytest.param(actor, path, situation, marks=marks[:1],
                                          id=f"{actor}-{path.name}-{situation}"))
    return found


# -- rendering ------------------------------------------------------------------------

def target_of(path: Path, situation: str, absent: bool = False) -> str | None:
    if path.target is None:
        return None
    reference = TARGETS[path.target](situation)
    if absent:  # one absent id for every situation: its answers are asked once
        reference = f"{reference.split('/')[0]}/{ABSENT}"
    return reference


def values(path: Path, situation: str, absent: bool = False) -> dict[str, str]:
    reference = target_of(path, situation, absent)
    found = {"patient": situation}
    if reference is not None:
        kind, rid = reference.split("/")
        found |= {"type": kind, "id": rid, "ref": reference, "secret": secret(reference),
                  "role": str(path.target), "situation": situation}
        if kind == "Patient":
            found["patient"] = rid
    return found


def _fill(template: Any, replacements: dict[str, str]) -> Any:
    if isinstance(template, str):
        for name, value in replacements.items():
            template = template.replace("{" + name + "}", value)
        return template
    if isinstance(template, dict):
        return {k: _fill(v, replacements) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, replacements) for v in template]
    return template


@dataclass(frozen=True)
class Rendered:
    method: str
    url: str
    headers: dict[str, str]
    content: bytes | None
    values: dict[str, str]

    @property
    def asked(self) -> str:
        """What the request names (URL and body), as text."""
        return " ".join((unquote(self.url), (self.content or b"").decode(errors="replace"),
                         self.values.get("ref", "")))

    def cache_key(self) -> str:
        return json.dumps([self.method, self.url, sorted(self.headers.items()),
                           (self.content or b"").decode()])


def render(path: Path, situation: str, absent: bool = False,
           extra: dict[str, str] | None = None) -> Rendered:
    """The request of a cell (``absent``: about a resource that never existed);
    ``extra``: more placeholder values. A callable body is built from the values."""
    found = {**values(path, situation, absent), **(extra or {})}
    url = _fill(path.url, found)
    headers = _fill(dict(path.headers), found)
    content = None
    if path.body is not None:
        body = path.body(found) if callable(path.body) else _fill(path.body, found)
        if path.form:
            content = body.encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded", **headers}
        elif isinstance(body, (dict, list)):
            content = json.dumps(body).encode()
            headers = {"Content-Type": "application/fhir+json", **headers}
        else:
            content = body.encode()
    return Rendered(path.method, url, headers, content, found)

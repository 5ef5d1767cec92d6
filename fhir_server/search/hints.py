"""What a parsed search says about its results, for the access policy (:class:`Hints`).

``patients``: when the search can only return resources in the compartments of certain
patients (``Patient/<id>/...``, ``patient=<id>``, ``subject=Patient/<id>``, Patient
``_id``), those patients, so that only their Consents need reading. Any mistake here can
only hide results, never show hidden ones: the policy adds "in no other patient's
compartment" to a narrowed filter. ``content``: whether the search tests or sorts by
what a resource says (then masked resources must not match it).
"""

from __future__ import annotations

from functools import cache

from ..access import Hints
from .compartments import compartment_definitions
from .definitions import official_parameters
from .parameters.reference import ReferenceValue
from .query import Clause, SearchQuery

__all__ = ["hints_of"]

_NOT_CONTENT = frozenset({"_id", "_lastUpdated"})
_AS_PATIENT = ".where(resolve() is Patient)"


def _paths(expression: str | None, resource_type: str) -> frozenset[str]:
    """The element paths of ``resource_type`` an expression reads references from
    (``Observation.subject.where(resolve() is Patient)`` reads ``Observation.subject``)."""
    parts = (p.strip().removesuffix(_AS_PATIENT) for p in (expression or "").split("|"))
    return frozenset(p for p in parts if p.startswith(resource_type + "."))


@cache
def _compartment_paths(resource_type: str) -> frozenset[str]:
    """The paths of the parameters that place ``resource_type`` in a Patient compartment."""
    links = compartment_definitions().get("Patient", {}).get(resource_type, ())
    return frozenset().union(*(_paths(p.expression, resource_type)
                               for p in official_parameters()
                               if p.code in links and resource_type in p.base))


def _confines_to_patients(resource_type: str, code: str, expression: str | None) -> bool:
    """Whether a reference parameter's Patient values are compartment memberships: it is
    one of the compartment's parameters, or reads only their elements (``patient`` on
    Observation is ``subject`` limited to Patients)."""
    if code in compartment_definitions().get("Patient", {}).get(resource_type, ()):
        return True
    paths = _paths(expression, resource_type)
    return bool(paths) and paths <= _compartment_paths(resource_type)


def _patients_of(resource_type: str, clause: Clause) -> set[str] | None:
    """The patients a clause confines results to, or None when it does not."""
    parameter = clause.parameter
    if parameter is None or clause.chain is not None or clause.missing is not None:
        return None
    if parameter.code == "_id" and resource_type == "Patient" and clause.modifier is None:
        return {str(v) for v in clause.values}
    if parameter.type != "reference" or clause.modifier not in (None, "Patient") or (
            not _confines_to_patients(resource_type, parameter.code, parameter.expression)):
        return None
    found: set[str] = set()
    for value in clause.values:
        if not isinstance(value, ReferenceValue) or value.by_identifier:
            return None
        for reference in value.references:
            kind, _, rid = reference.partition("/")
            if kind != "Patient" or not rid or "/" in rid:
                return None
            found.add(rid)
    return found or None


def hints_of(query: SearchQuery, compartment: tuple[str, str] | None) -> Hints:
    patients: set[str] | None = None
    if compartment is not None and compartment[0] == "Patient":
        patients = {compartment[1]}
    content = any(key.code not in _NOT_CONTENT for key in query.results.sort)
    for resource_type, clauses in query.clauses.items():
        for clause in clauses:
            found = _patients_of(resource_type, clause) if len(query.clauses) == 1 else None
            if found is not None:
                patients = found if patients is None else patients | found
            elif clause.parameter is None or clause.parameter.code not in _NOT_CONTENT or (
                    clause.chain is not None):
                content = True
    return Hints(frozenset(patients) if patients is not None else None, content)

"""The FHIR interactions (R4 http.html), free of HTTP: create, read, vread, update, patch,
delete, their conditional forms, search and history.

The REST handlers and the entries of transaction and batch Bundles both call these
functions, with the caller's access policy (:class:`Caller`) and plain arguments, so an
interaction behaves the same however it arrives. Each returns what it did; the caller
renders it.
"""

from .caller import Caller
from .conditional import match_one, still_absent
from .create import Created, create
from .delete import conditional_delete, delete
from .history import history
from .patch import Patcher, conditional_patch, patch
from .read import read, vread
from .search import search
from .update import conditional_update, update
from .validate import validate

__all__ = ["Caller", "Created", "create", "read", "vread", "update", "conditional_update",
           "patch", "conditional_patch", "Patcher", "delete", "conditional_delete",
           "search", "history", "match_one", "still_absent", "validate"]

"""The layers hold by construction (issue #12): only the storage layer touches MongoDB
collections, so every read of resources goes through a call that takes the caller's
access policy; and the top-level packages depend one way (``fhir_server`` uses
``profiles``, ``terminology``, ``consent`` and ``importers``, never the reverse).

Read from the source, so a new module that reaches for a collection fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("fhir_server", "profiles", "terminology", "consent", "importers")
STORAGE = ROOT / "fhir_server" / "storage"
# Opening the client (database.py) and pinging the embedded server (embedded_db.py) use
# no collection.
CONNECTION = {ROOT / "fhir_server" / "database.py", ROOT / "fhir_server" / "embedded_db.py"}
_COLLECTION_MODULES = ("pymongo.asynchronous.database", "pymongo.asynchronous.collection",
                       "pymongo.database", "pymongo.collection", "gridfs")
_COLLECTION_CALLS = {"get_collection", "list_collection_names", "create_collection",
                     "drop_collection", "get_database"}
_DATABASE_NAMES = {"db", "_db", "database"}


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _collection_uses(path: Path) -> list[str]:
    """What in a module reaches a MongoDB collection: imports of the database and
    collection APIs, ``db[...]`` subscripts, collection-level calls on a client or db."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(
                _COLLECTION_MODULES):
            found.append(f"line {node.lineno}: from {node.module} import")
        elif isinstance(node, ast.Import) and any(a.name.startswith(_COLLECTION_MODULES)
                                                  for a in node.names):
            found.append(f"line {node.lineno}: import of a collection API")
        elif isinstance(node, ast.Subscript):
            target = node.value
            name = target.attr if isinstance(target, ast.Attribute) else getattr(
                target, "id", None)
            if name in _DATABASE_NAMES:
                found.append(f"line {node.lineno}: {name}[...]")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
                node.func.attr in _COLLECTION_CALLS):
            found.append(f"line {node.lineno}: .{node.func.attr}()")
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_only_the_storage_layer_touches_collections(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): uses for path in _modules(package)
        if STORAGE not in path.parents and path not in CONNECTION
        and (uses := _collection_uses(path))}
    assert offenders == {}, "collections touched outside fhir_server/storage"


def test_the_check_sees_a_collection_access(tmp_path: Path) -> None:
    """The check itself: each way of reaching a collection is caught."""
    module = tmp_path / "sneaky.py"
    module.write_text("from pymongo.asynchronous.database import AsyncDatabase\n"
                      "async def f(self, client):\n"
                      "    await self.db['Patient'].find_one({})\n"
                      "    return client.get_database('fhir')\n")
    uses = _collection_uses(module)
    assert len(uses) == 3, uses


def _imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
    return names


@pytest.mark.parametrize("package", [p for p in PACKAGES if p != "fhir_server"])
def test_libraries_do_not_import_the_server(package: str) -> None:
    offenders = sorted(str(path.relative_to(ROOT)) for path in _modules(package)
                       if "fhir_server" in _imported(path))
    assert offenders == []

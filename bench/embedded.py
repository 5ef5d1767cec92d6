"""A throwaway embedded database for a benchmark."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fhir_server.embedded_db import EmbeddedDatabase, try_lock

__all__ = ["temporary_database"]


@contextmanager
def temporary_database(prefix: str) -> Iterator[EmbeddedDatabase]:
    """An embedded database (SecantusDB) on a new temporary data dir, stopped and removed
    afterwards."""
    with tempfile.TemporaryDirectory(prefix=prefix) as directory:
        data_dir = Path(directory)
        lock = try_lock(data_dir / "embedded-db.lock")
        assert lock is not None
        database = EmbeddedDatabase.start(data_dir, lock)
        try:
            yield database
        finally:
            database.stop()

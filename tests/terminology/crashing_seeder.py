"""A process that starts seeding and dies of SIGKILL right after its second batch commits.

    python -m tests.terminology.crashing_seeder MONGODB_URI DATABASE BATCH_SIZE TYPE/ID...

The shipped resources named on the command line are stored by the real repository on the
real database; only the process's death is arranged: a hard crash between two batches,
as a power cut or ``kill -9`` would leave it (no exception handler runs).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import Any

from fhir_server.config import Settings
from fhir_server.database import connect
from fhir_server.search.custom import RegistryStore
from fhir_server.search.index import index_resource
from fhir_server.search.parameters import IndexContext
from fhir_server.storage import Storage, SystemWriter
from fhir_server.storage.conformance_seed import seed_shipped
from fhir_server.validation import shipped_content

COMMITS_BEFORE_DEATH = 2


class DyingRepository:
    """The real repository, except that the process dies after its second transaction."""

    def __init__(self, repository: SystemWriter) -> None:
        self.repository = repository
        self.commits = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.repository, name)

    async def in_transaction(self, work: Any) -> Any:
        result = await self.repository.in_transaction(work)
        self.commits += 1
        if self.commits == COMMITS_BEFORE_DEATH:
            os.kill(os.getpid(), signal.SIGKILL)
        return result


async def main(uri: str, database: str, batch_size: int, keys: list[str]) -> None:
    client = connect(uri)
    db = client[database]
    base = Settings(database=database, mongodb_uri=uri).fhir_base
    context = IndexContext(base)
    storage = Storage.open(db, base, lambda r: index_resource(store.registry, r, context))
    store = RegistryStore(storage.search_registry)
    repository = SystemWriter(storage.resources)
    wanted = set(keys)
    resources = [r for r in shipped_content() if f"{r['resourceType']}/{r['id']}" in wanted]
    await seed_shipped(db, DyingRepository(repository), resources, batch_size=batch_size)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]))

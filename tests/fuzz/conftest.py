"""The fuzz tier: Hypothesis strategies over resources, search strings, Bundles, patches,
headers and HL7 v2 frames, run against the in-process app (``client``) and the HL7 v2
ingest function. Every answer must be below 500, every error an OperationOutcome, and a
failed request must leave the stored data as it was.

The default run is bounded and deterministic (``derandomize=True``: the same examples every
time). More examples: ``pytest tests/fuzz --fuzz-examples 2000``, or ``FUZZ_EXAMPLES=2000``
(the option is known only when ``tests/fuzz`` is on the command line; the variable works
from anywhere).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from fhir_server.config import Settings
from fhir_server.rest.app import create_app
from tests.conftest import BASE, database_of

from . import budget


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--fuzz-examples", type=int, default=None, metavar="N",
                     help="examples per fuzz test (default: a bounded number; "
                          "also FUZZ_EXAMPLES)")


def pytest_configure(config: pytest.Config) -> None:
    examples = config.getoption("fuzz_examples", default=None)
    if examples:
        budget.override(examples)


@pytest.fixture(scope="session")
async def fuzz_app(mongodb_uri, mongo_client):
    """The in-process app as ``tests/conftest.py`` builds it, once for the whole tier on its
    own database: a fresh app and database per test would cost seconds each, and the
    checks compare what is stored before and after each request anyway."""
    settings = Settings(database=f"fuzz_{uuid.uuid4().hex[:12]}", mongodb_uri=mongodb_uri,
                        base_url=BASE)
    application = create_app(settings, mongo_client)
    async with application.router.lifespan_context(application):
        yield application
    await mongo_client.drop_database(settings.database)


@pytest.fixture(scope="session")
async def client(fuzz_app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=fuzz_app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE + "/") as http:
        yield http


@pytest.fixture(scope="session")
def db(fuzz_app):
    return database_of(fuzz_app)

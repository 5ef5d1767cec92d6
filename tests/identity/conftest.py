"""Identity tests use the SMART app fixtures of tests/auth for access-control cases."""

from tests.auth.conftest import auth, http, repository, smart_app, smart_settings  # noqa: F401

"""``serve --workers N``: each worker rebuilds the parent's settings (fhir_server/server.py).

The black-box tier (``live_server``) runs on two workers; this checks the hand-over of
the settings themselves, nested ones included, without starting processes.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from fhir_server.config import Settings
from fhir_server.identity import HealthIdConfig
from fhir_server.server import _settings_from, _worker_settings


def test_a_worker_gets_the_parents_settings_but_not_the_mllp_listener():
    health_id = HealthIdConfig(system="https://example.org/health-id", issue=True)
    parent = Settings(port=18080, data_dir=Path("/tmp/somewhere"), mongodb_uri="mongodb://x",
                      auth="smart", mllp_port=2575, health_id=health_id,
                      public_health_roles=frozenset({"epidemiologist", "dso"}))
    worker = _settings_from(_worker_settings(parent))
    assert worker == dataclasses.replace(parent, mllp_port=None)
    assert isinstance(worker.health_id, HealthIdConfig)
    assert isinstance(worker.data_dir, Path)

"""``fhir-server serve`` options and their environment twins (issue 2, "Project and run")."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from fhir_server.cli import main
from fhir_server.config import Settings, is_loopback


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "example.org", "10.0.0.5"])
def test_auth_off_is_refused_on_a_non_loopback_host(host, tmp_path):
    result = CliRunner().invoke(main, ["serve", "--host", host, "--auth", "off",
                                       "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 2
    assert "--auth off is only allowed on a loopback address" in result.output
    assert not (tmp_path / "data").exists()


def test_auth_off_is_refused_through_the_environment_twins(tmp_path):
    result = CliRunner().invoke(main, ["serve"], env={
        "FHIR_HOST": "0.0.0.0", "FHIR_AUTH": "off", "FHIR_DATA_DIR": str(tmp_path / "d")})
    assert result.exit_code == 2
    assert "loopback" in result.output


def test_every_serve_option_has_its_environment_twin():
    serve = main.commands["serve"]
    twins = {option.name: option.envvar for option in serve.params}
    assert twins["host"] == "FHIR_HOST"
    assert twins["port"] == "FHIR_PORT"
    assert twins["data_dir"] == "FHIR_DATA_DIR"
    assert twins["mongodb_uri"] == "MONGODB_URI"
    assert twins["auth"] == "FHIR_AUTH"
    defaults = {option.name: option.default for option in serve.params}
    assert defaults["host"] == "127.0.0.1" and defaults["port"] == 8080
    assert str(defaults["data_dir"]) == "data"


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.1.2.3", True), ("::1", True), ("[::1]", True),
    ("localhost", True), ("0.0.0.0", False), ("::", False), ("10.0.0.1", False),
    ("localhost.example.org", False),
])
def test_loopback_addresses(host, loopback):
    assert is_loopback(host) is loopback


def test_fhir_base_follows_host_and_port():
    assert Settings(host="127.0.0.1", port=9000).fhir_base == "http://127.0.0.1:9000/fhir"
    assert Settings(host="::1", port=9000).fhir_base == "http://[::1]:9000/fhir"
    assert Settings(base_url="https://mch.example.org/fhir/").fhir_base == (
        "https://mch.example.org/fhir")
